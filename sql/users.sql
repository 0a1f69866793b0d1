-- Least-privilege users, one per function. `npm run db:migrate -- --users` fills in
-- the database name and the passwords (read from files, never from the command line).
-- randstore only adds cats; randshow and dbstats only read them. SHOW GLOBAL STATUS
-- needs no privilege.
CREATE USER IF NOT EXISTS 'randstore'@'%' IDENTIFIED BY {{randstore_password}};
ALTER USER 'randstore'@'%' IDENTIFIED BY {{randstore_password}};
GRANT SELECT, INSERT ON {{database}}.cats TO 'randstore'@'%';

CREATE USER IF NOT EXISTS 'randshow'@'%' IDENTIFIED BY {{randshow_password}};
ALTER USER 'randshow'@'%' IDENTIFIED BY {{randshow_password}};
GRANT SELECT ON {{database}}.cats TO 'randshow'@'%';

CREATE USER IF NOT EXISTS 'dbstats'@'%' IDENTIFIED BY {{dbstats_password}};
ALTER USER 'dbstats'@'%' IDENTIFIED BY {{dbstats_password}};
GRANT SELECT ON {{database}}.cats TO 'dbstats'@'%';
-- dbstats is the monitoring function: it reports the longest statement running on the
-- database, and the process list shows another user's threads only with PROCESS — the
-- privilege every MySQL monitoring agent needs. It lets dbstats see statements, not change
-- or stop them (that would be CONNECTION_ADMIN / SUPER).
GRANT PROCESS ON *.* TO 'dbstats'@'%';
