-- 0007: which profile attributes an org's users may edit themselves on
-- the console's self-service page (issue 8): a JSON array of attribute
-- names; NULL is the default set (directory.DefaultSelfServiceAttributes).
ALTER TABLE orgs ADD COLUMN self_service TEXT;
