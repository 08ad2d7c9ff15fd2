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
};
