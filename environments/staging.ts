// staging: production's shape at a smaller size, so releases are rehearsed on the real topology.
import { base } from "./base";
import type { EnvironmentConfig } from "./types";

export const staging: EnvironmentConfig = {
  ...base,
  name: "staging",
  production: false,
  logRetentionDays: 30,
  network: {
    vpcCidr: "10.20.0.0/16",
    availabilityZones: ["eu-west-2a", "eu-west-2b"],
    natGateways: "single",
    flowLogRetentionDays: 30,
  },
};
