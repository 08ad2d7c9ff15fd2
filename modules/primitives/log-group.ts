// A CloudWatch Logs group encrypted with a KMS key and kept for a retention CloudWatch Logs accepts.
// It is the provider's log group itself (no construct of its own), so its Terraform name is the caller's.
// The key's policy must let the regional logs service use it (EncryptionKey's `logsServiceGrant`).
import { Construct } from "constructs";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { checkLogRetention } from "./logs";
import { assertValid } from "./validation";

export interface EncryptedLogGroupProps {
  /** The group's name, for example `/vpc/webapp-dev/flow-logs`. */
  readonly name: string;
  /** Days events are kept: one of `LOG_RETENTION_DAYS`. */
  readonly retentionDays: number;
  /** ARN of the KMS key that encrypts the events. */
  readonly kmsKeyArn: string;
}

export class EncryptedLogGroup extends CloudwatchLogGroup {
  constructor(scope: Construct, id: string, props: EncryptedLogGroupProps) {
    super(scope, id, {
      name: props.name,
      retentionInDays: props.retentionDays,
      kmsKeyId: props.kmsKeyArn,
    });
    assertValid(this, props, (p, problems) => checkLogRetention(problems, "retentionDays", p.retentionDays));
  }
}
