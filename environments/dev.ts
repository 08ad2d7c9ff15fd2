// dev: cheapest shape that still exercises every part of the stack; torn down freely.
import { base } from "./base";
import type { EnvironmentConfig } from "./types";

export const dev: EnvironmentConfig = {
  ...base,
  name: "dev",
  production: false,
  logRetentionDays: 7,
  network: {
    vpcCidr: "10.10.0.0/16",
    availabilityZones: ["eu-west-2a", "eu-west-2b"],
    natGateways: "single",
    flowLogRetentionDays: 7,
    flowLogTrafficType: "REJECT",
  },
};
