"""Drive Debian's python3-ldap3 against the capture responder.

Usage: /usr/bin/python3 ldap3_client.py PORT SCENARIO

Each scenario opens one connection, binds, performs one kind of operation
and unbinds; run.sh records one file per scenario. The responder answers
success for everything, so any failure here means the request was not what
the client meant to send, and the script exits non-zero.
"""

import sys

import ldap3
from ldap3 import (ALL, ASYNC, BASE, LEVEL, MODIFY_ADD, MODIFY_DELETE,
                   MODIFY_REPLACE, NONE, SUBTREE, Connection, Server)

BIND_DN = "uid=svc,dc=acme,dc=okta,dc=com"
BIND_PW = "secret"
USERS = "ou=users,dc=acme,dc=okta,dc=com"
JDOE = "uid=jdoe,ou=users,dc=acme,dc=okta,dc=com"
PEOPLE = "ou=people,dc=acme,dc=okta,dc=com"


def check(ok, what, conn):
    if not ok:
        sys.exit("%s failed: %s" % (what, conn.result))


def search(c):
    check(c.search(USERS, "(uid=jdoe)", SUBTREE,
                   attributes=["cn", "mail", "memberOf"]), "search", c)


def paged(c):
    check(c.search(USERS, "(objectClass=person)", LEVEL,
                   attributes=["uid"], paged_size=2), "paged search", c)


def compare(c):
    check(c.compare(JDOE, "mail", "jdoe@acme.com"), "compare", c)


def modify(c):
    check(c.modify(JDOE, {
        "mail": [(MODIFY_ADD, ["jdoe2@acme.com"])],
        "telephoneNumber": [(MODIFY_DELETE, [])],
        "title": [(MODIFY_REPLACE, ["Engineer"])],
    }), "modify", c)


def add(c):
    check(c.add("uid=new,ou=users,dc=acme,dc=okta,dc=com",
                ["top", "person", "inetOrgPerson"],
                {"uid": "new", "cn": "New User", "sn": "User",
                 "mail": "new@acme.com"}), "add", c)


def delete(c):
    check(c.delete("uid=old,ou=users,dc=acme,dc=okta,dc=com"), "delete", c)


def moddn(c):
    check(c.modify_dn(JDOE, "uid=jdoe2", delete_old_dn=True,
                      new_superior=PEOPLE), "modify_dn", c)


def whoami(c):
    who = c.extend.standard.who_am_i()
    check(who == "dn:cn=x", "who_am_i (got %r)" % (who,), c)


def passwd(c):
    check(c.extend.standard.modify_password(JDOE, "oldpw", "newpw"),
          "modify_password", c)


def abandon(c):
    # The responder never answers searches under cn=hold, so the search is
    # still outstanding when it is abandoned.
    msgid = c.search("cn=hold,dc=acme,dc=okta,dc=com", "(objectClass=*)", BASE)
    check(c.abandon(msgid), "abandon", c)


SCENARIOS = {
    "bind": lambda c: None,
    "search": search,
    "paged": paged,
    "compare": compare,
    "modify": modify,
    "add": add,
    "delete": delete,
    "moddn": moddn,
    "whoami": whoami,
    "passwd": passwd,
    "abandon": abandon,
    # get_info=ALL: after binding, ldap3 reads the root DSE (and the schema
    # if the root DSE names one) as real applications do by default.
    "info": lambda c: None,
    "anonymous": lambda c: None,
}


def main():
    port, scenario = int(sys.argv[1]), sys.argv[2]
    run = SCENARIOS[scenario]
    server = Server("127.0.0.1", port=port,
                    get_info=ALL if scenario == "info" else NONE)
    if scenario == "anonymous":
        conn = Connection(server)
    else:
        conn = Connection(server, user=BIND_DN, password=BIND_PW,
                          client_strategy=ASYNC if scenario == "abandon"
                          else ldap3.SYNC)
    check(conn.bind(), "bind", conn)
    run(conn)
    conn.unbind()


if __name__ == "__main__":
    main()
