// scripts/db/create-app-role.sql against a real PostgreSQL on loopback: run by a master user that, like
// RDS's, can create roles and databases but is no superuser, it leaves an app role that logs in, works in
// its own database only, and can neither create roles nor reach another database.
import * as path from "node:path";
import { startPostgres, TestPostgres } from "./support/postgres";

const script = path.join(__dirname, "..", "scripts", "db", "create-app-role.sql");
const master = { user: "webapp_admin", password: "master-pw-1" };
const app = { user: "webapp_app", password: "app-pw-1" };

describe("create-app-role.sql", () => {
  let pg: TestPostgres;
  const run = (password: string, vars: Record<string, string> = { app_user: app.user, app_db: "webapp" }, db = "webapp") =>
    pg.psql(
      master.user,
      master.password,
      db,
      [...Object.entries(vars).flatMap(([k, v]) => ["-v", `${k}=${v}`]), "-f", script],
      password ? { APP_DB_PASSWORD: password } : {},
    );
  const asApp = (sql: string, db = "webapp", password = app.password) => pg.psql(app.user, password, db, ["-c", sql]);

  beforeAll(async () => {
    pg = await startPostgres();
    const admin = (sql: string, db = "postgres") => {
      const r = pg.psql(pg.admin.user, pg.admin.password, db, ["-c", sql]);
      if (r.status !== 0) throw new Error(r.stderr);
    };
    admin(`CREATE ROLE ${master.user} LOGIN CREATEROLE CREATEDB PASSWORD '${master.password}'`);
    admin(`CREATE DATABASE webapp OWNER ${master.user}`);
    admin(`CREATE DATABASE otherdb OWNER ${master.user}`);
    admin("CREATE TABLE admin_secrets (v text); INSERT INTO admin_secrets VALUES ('x')");
    const m = (sql: string, db: string) => {
      const r = pg.psql(master.user, master.password, db, ["-c", sql]);
      if (r.status !== 0) throw new Error(r.stderr);
    };
    m("CREATE TABLE other_data (v text); INSERT INTO other_data VALUES ('other')", "otherdb");
    m("CREATE TABLE restored (id serial PRIMARY KEY, v text); INSERT INTO restored (v) VALUES ('from the dump')", "webapp");
  }, 60_000);
  afterAll(() => pg?.stop());

  it("creates a login role that is no superuser and holds no memberships", () => {
    const result = run(app.password);
    expect({ status: result.status, stderr: result.stderr }).toEqual({ status: 0, stderr: "" });
    expect(result.stdout.trim().split("\n").pop()).toBe(`${app.user}|f|f|f|f|t`);
    expect(
      asApp("SELECT count(*) FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.member WHERE r.rolname = current_user").stdout.trim(),
    ).toBe("0");
  });

  it("lets the app create, use and drop its own tables, and use the restored ones", () => {
    const r = asApp(
      "CREATE TABLE sessions (id text PRIMARY KEY); INSERT INTO sessions VALUES ('s1'); SELECT count(*) FROM sessions; DROP TABLE sessions",
    );
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: "" });
    expect(r.stdout.trim()).toBe("1");
    const restored = asApp("INSERT INTO restored (v) VALUES ('by the app'); SELECT count(*) FROM restored");
    expect({ status: restored.status, out: restored.stdout.trim() }).toEqual({ status: 0, out: "2" });
  });

  it("cannot create roles or databases, or make itself more", () => {
    for (const sql of [
      "CREATE ROLE intruder LOGIN",
      "CREATE DATABASE mine",
      `ALTER ROLE ${app.user} CREATEROLE`,
      "GRANT webapp_admin TO webapp_app",
    ]) {
      const r = asApp(sql);
      expect({ sql, status: r.status }).toEqual({ sql, status: 1 });
      expect(r.stderr).toMatch(/permission denied|must have|only roles with/i);
    }
  });

  it("cannot connect to another database of the master user, nor read the cluster's own", () => {
    const other = asApp("SELECT v FROM other_data", "otherdb");
    expect(other.status).not.toBe(0);
    expect(other.stderr).toMatch(/permission denied for database "otherdb"/);
    const admins = asApp("SELECT v FROM admin_secrets", "postgres");
    expect(admins.status).not.toBe(0);
    expect(admins.stderr).toMatch(/permission denied for table admin_secrets/);
  });

  it("leaves PUBLIC no way into the app's database", () => {
    const r = pg.psql(pg.admin.user, pg.admin.password, "postgres", [
      "-c",
      "SELECT has_database_privilege('public', 'webapp', 'CONNECT'), has_database_privilege('public', 'otherdb', 'CONNECT')",
    ]);
    expect(r.stdout.trim()).toBe("f|f");
  });

  it("rotates the password when run again, and the old one stops working", () => {
    expect(run("app-pw-2").status).toBe(0);
    expect(asApp("SELECT 1", "webapp", app.password).status).not.toBe(0);
    expect(asApp("SELECT 1", "webapp", "app-pw-2").stdout.trim()).toBe("1");
  });

  it("refuses without a password, in another database, or for the master user itself", () => {
    const missing = run("");
    expect(missing.status).not.toBe(0);
    expect(missing.stderr).toMatch(/APP_DB_PASSWORD/);
    const elsewhere = run("x", { app_user: app.user, app_db: "webapp" }, "otherdb");
    expect(elsewhere.status).not.toBe(0);
    expect(elsewhere.stderr).toMatch(/connect to the app database itself/);
    const self = run("x", { app_user: master.user, app_db: "webapp" });
    expect(self.status).not.toBe(0);
    expect(self.stderr).toMatch(/must not be the user running this script/);
  });
});
