-- 0003: per-org sign-in settings (issue 5). The MFA separator splits an
-- LDAP bind password into password and one-time code; '' is the default
-- (',').
ALTER TABLE orgs ADD COLUMN mfa_separator TEXT NOT NULL DEFAULT '';
