-- 0002: an org's LDAP interface switches beyond Okta's behaviour (issue
-- 13), as a JSON object (store.LDAPSettings); NULL is Okta's behaviour.
-- The SQLite store's 0010.
ALTER TABLE orgs ADD COLUMN ldap_settings text;
