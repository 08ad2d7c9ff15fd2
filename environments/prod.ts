// prod: three zones, a NAT gateway per zone, long retention; production safeguards enforced.
import { base } from "./base";
import type { EnvironmentConfig } from "./types";

export const prod: EnvironmentConfig = {
  ...base,
  name: "prod",
  production: true,
  logRetentionDays: 365,
  network: {
    vpcCidr: "10.30.0.0/16",
    availabilityZones: ["eu-west-2a", "eu-west-2b", "eu-west-2c"],
    natGateways: "per-az",
    interfaceEndpoints: ["secretsmanager", "ssm", "ssmmessages", "ec2messages", "logs"],
    flowLogRetentionDays: 365,
  },
  secrets: { recoveryWindowDays: 30 },
  database: {
    engine: "postgres",
    engineVersion: "16",
    instanceClass: "db.m7g.large",
    allocatedStorageGib: 100,
    maxAllocatedStorageGib: 1000,
    multiAz: true,
    backupRetentionDays: 14,
    backupWindow: "02:00-03:00",
    maintenanceWindow: "sun:03:30-sun:04:30",
    deletionProtection: true,
    finalSnapshot: true,
    performanceInsightsRetentionDays: 31,
  },
  fileSystem: { throughputMode: "elastic" },
  cache: {
    engine: "valkey",
    engineVersion: "8.0",
    nodeType: "cache.m7g.large",
    nodeCount: 2,
    multiAz: true,
    automaticFailover: true,
    snapshotRetentionDays: 7,
    snapshotWindow: "00:30-01:30",
    maintenanceWindow: "sun:05:00-sun:06:00",
  },};
