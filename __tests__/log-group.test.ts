import { Construct } from "constructs";
import { EncryptedLogGroup } from "../modules/primitives/log-group";
import { LOG_RETENTION_DAYS } from "../modules/primitives/logs";
import { resources, synthConstruct } from "./support/synth";

const KEY = "arn:aws:kms:eu-west-2:111111111111:key/test";

describe("EncryptedLogGroup", () => {
  it("is the log group itself, named by the caller's scope and id, with the key and retention", () => {
    const { json } = synthConstruct((stack) => {
      new EncryptedLogGroup(new Construct(stack, "owner"), "flow-log-group", {
        name: "/vpc/webapp-test/flow-logs",
        retentionDays: 30,
        kmsKeyArn: KEY,
      });
    });
    const groups = resources(json, "aws_cloudwatch_log_group");
    expect(Object.keys(groups).map((name) => name.replace(/_[0-9A-F]{8}$/, ""))).toEqual(["owner_flow-log-group"]);
    expect(Object.values(groups)[0]).toEqual({ name: "/vpc/webapp-test/flow-logs", retention_in_days: 30, kms_key_id: KEY });
  });

  it.each([0, 2, 366, 1.5])("refuses a retention CloudWatch Logs does not accept (%p days), naming the path", (days) => {
    expect(() =>
      synthConstruct((stack) => {
        new EncryptedLogGroup(new Construct(stack, "owner"), "logs", { name: "/x", retentionDays: days, kmsKeyArn: KEY });
      }),
    ).toThrow(`test/owner/logs: retentionDays = ${days}: CloudWatch Logs accepts only ${LOG_RETENTION_DAYS.join(", ")} days`);
  });
});
