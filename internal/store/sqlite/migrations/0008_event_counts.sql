-- 0008: how many events of each org, type and outcome the system log
-- holds per minute (store.EventCountGrain), for EventCounts (the
-- console's chart of a day's sign-ins): it reads a few rows a minute
-- instead of decoding every page of the day. AppendEvents adds a batch's
-- counts in its transaction and PruneEvents takes off what it deletes in
-- its own (eventcounts.go). After this SQL, countStoredEvents counts the
-- events already in the log.
--
-- minute is the events' Published in unix seconds divided by 60, rounded
-- down. The key serves EventCounts: one range of minutes per event type.
CREATE TABLE event_counts (
	org_id     TEXT NOT NULL,
	event_type TEXT NOT NULL,
	minute     INTEGER NOT NULL,
	outcome    TEXT NOT NULL,
	n          INTEGER NOT NULL,
	PRIMARY KEY (org_id, event_type, minute, outcome)
) WITHOUT ROWID;
