-- Creates (or updates) the app's own database role: LOGIN, no superuser, no CREATEDB/CREATEROLE, no
-- inherited memberships, privileges on the app's database only. Run once per environment by an operator,
-- connected to the app's database as the RDS master user (never by the app instances), and again to
-- rotate the password. Idempotent.
--
--   APP_DB_PASSWORD=<from the app-user secret> psql "host=... dbname=<app db> user=<master> sslmode=require" \
--     -v app_user=<username> -v app_db=<app db> -f scripts/db/create-app-role.sql
--
-- The password comes from the environment (\getenv), never from the command line. It is sent as a
-- literal to the server, which stores only its SCRAM hash; keep statement logging of DDL off meanwhile.
\set ON_ERROR_STOP on
-- Each check below fails the run with its reason (a cast that cannot succeed, under ON_ERROR_STOP).
\if :{?app_user}
\else
  SELECT 'create-app-role: pass -v app_user=<name> -v app_db=<database>'::int;
\endif
\if :{?app_db}
\else
  SELECT 'create-app-role: pass -v app_user=<name> -v app_db=<database>'::int;
\endif
\getenv app_password APP_DB_PASSWORD
\if :{?app_password}
\else
  \set app_password ''
\endif
SELECT :'app_password' = '' AS no_password, current_database() <> :'app_db' AS wrong_database, :'app_user' = current_user AS is_self \gset
\if :no_password
  SELECT 'create-app-role: set APP_DB_PASSWORD to the app user''s password (from its secret)'::int;
\endif
\if :wrong_database
  SELECT 'create-app-role: connect to the app database itself (dbname = app_db)'::int;
\endif
\if :is_self
  SELECT 'create-app-role: app_user must not be the user running this script'::int;
\endif

BEGIN;
SELECT format('CREATE ROLE %I', :'app_user') WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'app_user') \gexec
SELECT format('ALTER ROLE %I WITH LOGIN NOCREATEDB NOCREATEROLE NOINHERIT PASSWORD %L', :'app_user', :'app_password') \gexec
-- No memberships (rds_superuser, pg_read_all_data ...): whatever it was granted before is revoked.
SELECT format('REVOKE %I FROM %I', r.rolname, :'app_user')
  FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid JOIN pg_roles u ON u.oid = m.member
  WHERE u.rolname = :'app_user' \gexec

-- Its database: only it (and the owner) may connect; it may create temporary tables.
SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', :'app_db') \gexec
SELECT format('GRANT CONNECT, TEMPORARY ON DATABASE %I TO %I', :'app_db', :'app_user') \gexec
-- Other databases this user owns: no connections by PUBLIC (the app role's only way in).
SELECT format('REVOKE CONNECT, TEMPORARY ON DATABASE %I FROM PUBLIC', datname)
  FROM pg_database
  WHERE datname <> :'app_db' AND datallowconn AND NOT datistemplate AND pg_get_userbyid(datdba) = current_user \gexec

-- The public schema: the app creates and owns its tables (migrations); PUBLIC creates nothing.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
SELECT format('GRANT USAGE, CREATE ON SCHEMA public TO %I', :'app_user') \gexec
-- Tables restored by the master user (a migrated dump) are the app's to use, now and later.
SELECT format('GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON ALL TABLES IN SCHEMA public TO %I', :'app_user') \gexec
SELECT format('GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO %I', :'app_user') \gexec
SELECT format('ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON TABLES TO %I', :'app_user') \gexec
SELECT format('ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO %I', :'app_user') \gexec
COMMIT;

SELECT rolname, rolsuper, rolcreaterole, rolcreatedb, rolinherit, rolcanlogin FROM pg_roles WHERE rolname = :'app_user';
