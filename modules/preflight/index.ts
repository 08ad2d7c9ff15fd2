// Plan-time checks of what only the account knows: data sources whose postconditions fail `terraform plan`,
// before anything is created, with a message naming the setting. Creates no resource. (What a pinned
// catalogue can answer is checked at synth instead: modules/rules/aws-catalogue.generated.ts.)
import { Construct } from "constructs";
import { DataAwsAvailabilityZones } from "@cdktf/provider-aws/lib/data-aws-availability-zones";
import { DataAwsEc2InstanceTypeOfferings } from "@cdktf/provider-aws/lib/data-aws-ec2-instance-type-offerings";

export interface PreflightProps {
  /** The environment's zones (network.availabilityZones). */
  readonly availabilityZones: readonly string[];
  /** The app instances' type (compute.instanceType). */
  readonly instanceType: string;
  /** Every type the group may launch (compute.purchaseMix.instanceTypes); each is checked like instanceType. @default [] */
  readonly instanceTypes?: readonly string[];
}

/** `${...}` over the configured zones missing from `list` (a Terraform expression). */
function missing(zones: readonly string[], list: string): string {
  return `setsubtract(${JSON.stringify(zones)}, ${list})`;
}

export class Preflight extends Construct {
  readonly zones: DataAwsAvailabilityZones;
  readonly offerings: DataAwsEc2InstanceTypeOfferings;
  /** One per listed type other than instanceType, in list order. */
  readonly mixOfferings: readonly DataAwsEc2InstanceTypeOfferings[];

  constructor(scope: Construct, id: string, props: PreflightProps) {
    super(scope, id);
    const zones = [...props.availabilityZones];
    this.zones = new DataAwsAvailabilityZones(this, "zones", {
      state: "available",
      // Exactly the configured zones: the answer is a closed set, whatever zones AWS adds later.
      filter: [{ name: "zone-name", values: zones }],
      lifecycle: {
        postcondition: [
          {
            condition: `\${length(${missing(zones, "self.names")}) == 0}`,
            errorMessage: `network.availabilityZones = ${JSON.stringify(zones)}: not every zone is available to this account (an opt-in or retired zone?); use zones aws ec2 describe-availability-zones lists as available.`,
          },
        ],
      },
    });
    const offered = (id: string, instanceType: string, field: string) =>
      new DataAwsEc2InstanceTypeOfferings(this, id, {
        locationType: "availability-zone",
        filter: [
          { name: "instance-type", values: [instanceType] },
          { name: "location", values: zones },
        ],
        lifecycle: {
          postcondition: [
            {
              condition: `\${length(${missing(zones, "self.locations")}) == 0}`,
              errorMessage: `${field} = "${instanceType}": not offered in every zone of network.availabilityZones ${JSON.stringify(zones)}; choose a type offered in all of them (aws ec2 describe-instance-type-offerings --location-type availability-zone).`,
            },
          ],
        },
      });
    this.offerings = offered("instance-type", props.instanceType, "compute.instanceType");
    // The purchase mix may launch any listed type in any zone: each must be offered in all of them.
    this.mixOfferings = (props.instanceTypes ?? []).flatMap((type, i) =>
      type === props.instanceType
        ? []
        : [offered(`instance-type-${type.replace(/\./g, "-")}`, type, `compute.purchaseMix.instanceTypes[${i}]`)],
    );
  }
}
