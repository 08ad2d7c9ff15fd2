import { formatArn, PARTITION, partitionOf } from "../modules/primitives/arn";

describe("formatArn", () => {
  it.each([
    [{ service: "iam", account: "111111111111", resource: "role/webapp-dev-app" }, "arn:aws:iam::111111111111:role/webapp-dev-app"],
    [
      { service: "iam", account: "aws", resource: "policy/service-role/AmazonRDSEnhancedMonitoringRole" },
      "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole",
    ],
    [{ service: "s3", resource: "webapp-state/*" }, "arn:aws:s3:::webapp-state/*"],
    [{ service: "ssm", region: "eu-west-2", resource: "parameter/aws/service/*" }, "arn:aws:ssm:eu-west-2::parameter/aws/service/*"],
    [{ service: "cloudtrail", region: "*", account: "111111111111", resource: "trail/*" }, "arn:aws:cloudtrail:*:111111111111:trail/*"],
    [
      { service: "secretsmanager", region: "eu-west-2", account: "111111111111", resource: "secret:cache-token-??????" },
      "arn:aws:secretsmanager:eu-west-2:111111111111:secret:cache-token-??????",
    ],
    [{ service: "logs", region: "eu-west-2", account: "111111111111", resource: "*" }, "arn:aws:logs:eu-west-2:111111111111:*"],
    [{ partition: "aws-us-gov", service: "iam", account: "048591011584", resource: "root" }, "arn:aws-us-gov:iam::048591011584:root"],
  ])("%j -> %s", (parts, arn) => {
    expect(formatArn(parts)).toBe(arn);
  });

  it("keeps a Terraform reference in the resource as it is", () => {
    expect(
      formatArn({
        service: "rds-db",
        region: "eu-west-2",
        account: "111111111111",
        resource: "dbuser:${aws_db_instance.db.resource_id}/app",
      }),
    ).toBe("arn:aws:rds-db:eu-west-2:111111111111:dbuser:${aws_db_instance.db.resource_id}/app");
  });

  it("writes the stacks' one partition unless told another; a region's partition on request", () => {
    expect(PARTITION).toBe("aws");
    expect(formatArn({ service: "kms", region: "us-gov-west-1", account: "111111111111", resource: "key/*" })).toBe(
      "arn:aws:kms:us-gov-west-1:111111111111:key/*",
    );
    expect(["eu-west-2", "us-east-1", "cn-north-1", "cn-northwest-1", "us-gov-west-1", "us-gov-east-1"].map(partitionOf)).toEqual([
      "aws",
      "aws",
      "aws-cn",
      "aws-cn",
      "aws-us-gov",
      "aws-us-gov",
    ]);
  });
});
