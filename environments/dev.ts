// dev: cheapest shape that still exercises every part of the stack; torn down freely.
import { app, base } from "./base";
import type { EnvironmentConfig } from "./schema/types";

export const dev: EnvironmentConfig = {
  ...base,
  name: "dev",
  production: false,
  acknowledgements: {
    "network.natGateways": "one NAT gateway keeps dev cheap; losing its zone's Internet access for a while is acceptable here",
  },
  logRetentionDays: 7,
  network: {
    vpcCidr: "10.10.0.0/16",
    availabilityZones: ["eu-west-2a", "eu-west-2b"],
    natGateways: "single",
    flowLogRetentionDays: 7,
    flowLogTrafficType: "REJECT",
  },
  secrets: { recoveryWindowDays: 0 },
  database: {
    engine: "postgres",
    engineVersion: "16",
    instanceClass: "db.t4g.small",
    allocatedStorageGib: 20,
    maxAllocatedStorageGib: 100,
    multiAz: false,
    backupRetentionDays: 1,
    backupWindow: "02:00-03:00",
    maintenanceWindow: "sun:03:30-sun:04:30",
    deletionProtection: false,
    finalSnapshot: false,
    applyImmediately: true,
  },
  // No automatic backups: dev's uploads are disposable, and recovery points would outlive a teardown by 35 days.
  fileSystem: { throughputMode: "bursting", automaticBackups: false },
  cache: {
    engine: "valkey",
    engineVersion: "8.0",
    nodeType: "cache.t4g.micro",
    nodeCount: 1,
    multiAz: false,
    automaticFailover: false,
    snapshotRetentionDays: 1,
    snapshotWindow: "00:30-01:30",
    maintenanceWindow: "sun:05:00-sun:06:00",
    applyImmediately: true,
  },
  edge: {
    // DNS is hosted elsewhere: publish the validation records and a CNAME from the outputs (docs/dns-and-certificates.md).
    domainName: "dev.app.example.com",
    healthCheck: { matcher: "200" },
    deregistrationDelaySeconds: 10,
    idleTimeoutSeconds: 60,
    // Short, so a dev domain that stops serving HTTPS is not pinned in browsers for a year.
    hstsMaxAgeSeconds: 300,
    deletionProtection: false,
    accessLogRetentionDays: 7,
    routeTraffic: true,
    waf: { enabled: false },
  },
  compute: {
    instanceType: "t4g.small",
    minCapacity: 1,
    maxCapacity: 2,
    appPort: 8080,
    // dev follows the main branch: each boot fetches its newest commit.
    repository: {
      url: app.url,
      directory: app.directory,
      ref: "refs/heads/main",
      allowBranchRef: true,
      credentialType: app.credentialType,
    },
    runtime: app.runtime,
    buildCommands: app.buildCommands,
    startCommand: app.startCommand,
    healthCheckPath: app.healthCheckPath,
    cronJobs: app.cronJobs,
    // Torn down freely: the slot records go with it.
    jobTable: { deletionProtection: false },
    scaling: { targetCpuPercent: 70 },
    // Nobody uses dev at night or at weekends: scale to zero, back to one on weekday mornings, in the team's
    // time zone (an IANA name; set yours: README, "Making it yours").
    scheduledActions: [
      { name: "night", recurrence: "0 20 * * *", minCapacity: 0, maxCapacity: 0, desiredCapacity: 0, timeZone: "Europe/London" },
      { name: "morning", recurrence: "0 7 * * 1-5", minCapacity: 1, maxCapacity: 2, timeZone: "Europe/London" },
    ],
    instanceRefreshMinHealthyPercent: 100,
    // All Spot, from any current Graviton type of 2 vCPUs and 2-4 GiB: dev may wait a boot for a replacement.
    purchaseMix: {
      instanceRequirements: {
        vcpuCount: { min: 2, max: 2 },
        memoryMiB: { min: 2048, max: 4096 },
        architecture: "arm64",
        burstablePerformance: "included",
      },
      onDemandBaseCapacity: 0,
      onDemandPercentageAboveBaseCapacity: 0,
    },
  },
  monitoring: {
    topic: true,
    alarmEmails: [],
    thresholds: { targetResponseP95Seconds: 3 },
  },
};
