// staging: production's shape at a smaller size, so releases are rehearsed on the real topology.
import { app, base } from "./base";
import type { EnvironmentConfig } from "./schema/types";

export const staging: EnvironmentConfig = {
  ...base,
  name: "staging",
  production: false,
  acknowledgements: {
    "network.natGateways": "one NAT gateway keeps staging cheap; a zone outage may interrupt a rehearsal, never users",
  },
  logRetentionDays: 30,
  network: {
    vpcCidr: "10.20.0.0/16",
    availabilityZones: ["eu-west-2a", "eu-west-2b"],
    natGateways: "single",
    flowLogRetentionDays: 30,
  },
  secrets: { recoveryWindowDays: 7 },
  database: {
    engine: "postgres",
    engineVersion: "16",
    instanceClass: "db.t4g.medium",
    allocatedStorageGib: 20,
    maxAllocatedStorageGib: 200,
    multiAz: false,
    backupRetentionDays: 7,
    backupWindow: "02:00-03:00",
    maintenanceWindow: "sun:03:30-sun:04:30",
    deletionProtection: false,
    finalSnapshot: true,
  },
  fileSystem: { throughputMode: "bursting" },
  cache: {
    engine: "valkey",
    engineVersion: "8.0",
    nodeType: "cache.t4g.small",
    nodeCount: 2,
    multiAz: true,
    automaticFailover: true,
    snapshotRetentionDays: 3,
    snapshotWindow: "00:30-01:30",
    maintenanceWindow: "sun:05:00-sun:06:00",
  },
  edge: {
    domainName: "staging.app.example.com",
    hostedZone: { id: "Z0EXAMPLE0000000STAGE", name: "example.com" },
    healthCheck: { matcher: "200" },
    deregistrationDelaySeconds: 30,
    idleTimeoutSeconds: 60,
    deletionProtection: false,
    accessLogRetentionDays: 30,
    routeTraffic: true,
    waf: { enabled: true, rateLimitPer5Minutes: 2000 },
  },
  compute: {
    instanceType: "t4g.medium",
    minCapacity: 2,
    maxCapacity: 4,
    appPort: 8080,
    // The release under test, the tag that goes to prod next: refs/tags/<tag> of a tag in app.url's repository.
    // v1.4.2 is the template's example, which no repository has (synth warns): tag a commit of the app
    // (git tag v0.1.0 <commit> && git push origin v0.1.0) and set "refs/tags/v0.1.0" (README: "Making it yours").
    repository: { url: app.url, directory: app.directory, ref: "refs/tags/v1.4.2", credentialType: app.credentialType },
    runtime: app.runtime,
    buildCommands: app.buildCommands,
    startCommand: app.startCommand,
    healthCheckPath: app.healthCheckPath,
    cronJobs: app.cronJobs,
    // Torn down freely: the slot records go with it.
    jobTable: { deletionProtection: false },
    scaling: { targetCpuPercent: 60, requestsPerTarget: 1000 },
    instanceRefreshMinHealthyPercent: 100,
    // Prod's shape: the minimum On-Demand; what scaling adds above it is Spot, from three 2 vCPU / 4 GiB types.
    purchaseMix: {
      instanceTypes: ["t4g.medium", "c7g.large", "c6g.large"],
      onDemandBaseCapacity: 2,
      onDemandPercentageAboveBaseCapacity: 0,
    },
  },
  monitoring: {
    topic: true,
    alarmEmails: ["platform-alerts@example.com"],
  },
};
