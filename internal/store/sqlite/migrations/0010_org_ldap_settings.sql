-- 0010: an org's LDAP interface switches beyond Okta's behaviour (issue
-- 13), as a JSON object (store.LDAPSettings); NULL is Okta's behaviour.
ALTER TABLE orgs ADD COLUMN ldap_settings TEXT;
