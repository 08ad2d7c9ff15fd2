// The compute settings' defaults, resolved once (modules/compute/settings.ts), and the group's lifecycle hooks
// (modules/compute/group.ts): the values the check and the construct both read.
import { ComputeSettings, lifecycleHooks, resolveComputeSettings } from "../modules/compute";

const minimal: ComputeSettings = {
  instanceType: "t4g.small",
  minCapacity: 1,
  maxCapacity: 2,
  appPort: 8080,
  repository: {
    url: "https://github.com/example-org/webapp.git",
    ref: "0123456789abcdef0123456789abcdef01234567",
    credentialType: "https-token",
  },
  buildCommands: ["npm ci"],
  startCommand: "exec node server.js",
  healthCheckPath: "/healthz",
  scaling: { targetCpuPercent: 50 },
};

describe("resolveComputeSettings", () => {
  it("fills every default, and derives the refresh's ceiling and the launch window", () => {
    const resolved = resolveComputeSettings(minimal);
    expect(resolved).toMatchObject({
      healthCheckGraceSeconds: 120,
      defaultInstanceWarmupSeconds: 120,
      appUser: "webapp",
      uploadsPath: "/mnt/uploads",
      cronJobs: [],
      scheduledActions: [],
      instanceRefreshMinHealthyPercent: 100,
      instanceRefreshMaxHealthyPercent: 200,
      rootVolumeGiB: 20,
      bootTimeoutSeconds: 1200,
      bootStepTimeoutSeconds: 600,
      healthCheckWaitSeconds: 300,
      launchWindowSeconds: 1800,
      repository: { directory: "", allowBranchRef: false, httpsUsername: "x-access-token", sshKnownHosts: [] },
    });
    expect(resolved.warmPool).toBeUndefined();
  });

  it("keeps what the environment sets, and a step never outlasts a shorter boot budget", () => {
    const resolved = resolveComputeSettings({
      ...minimal,
      bootTimeoutSeconds: 300,
      instanceRefreshMinHealthyPercent: 50,
      rootVolumeGiB: 40,
      warmPool: { maxPreparedCapacity: 4 },
      scheduledActions: [
        { name: "night", recurrence: "0 20 * * *", minCapacity: 0, maxCapacity: 0 },
        { name: "day", recurrence: "0 7 * * *", minCapacity: 1, maxCapacity: 2, timeZone: "Europe/London" },
      ],
    });
    expect(resolved).toMatchObject({
      bootTimeoutSeconds: 300,
      bootStepTimeoutSeconds: 300,
      launchWindowSeconds: 600,
      instanceRefreshMaxHealthyPercent: 150,
      rootVolumeGiB: 40,
    });
    expect(resolved.warmPool).toEqual({ minSize: 0, maxPreparedCapacity: 4, poolState: "Stopped" });
    expect(resolved.scheduledActions.map((a) => a.timeZone)).toEqual(["UTC", "Europe/London"]);
  });
});

describe("lifecycleHooks", () => {
  it("holds a launch for one boot step, and a termination for the deregistration delay and the drain, within 30 to 7200 s", () => {
    const heartbeats = (delay: number) => lifecycleHooks(420, delay).map((h) => [h.name, h.heartbeatTimeout]);
    expect(heartbeats(60)).toEqual([
      ["boot", 420],
      ["drain", 90],
    ]);
    expect(heartbeats(0)).toEqual([
      ["boot", 420],
      ["drain", 30],
    ]);
    expect(heartbeats(7200)).toEqual([
      ["boot", 420],
      ["drain", 7200],
    ]);
  });
});
