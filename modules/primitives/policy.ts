// IAM policy documents as plain, typed objects rendered to JSON at synth time, so tests can parse
// them statement by statement and Terraform resolves the references inside them.

export type Conditions = Readonly<Record<string, Readonly<Record<string, string | readonly string[]>>>>;

interface StatementBase {
  readonly Sid?: string;
  readonly Effect: "Allow" | "Deny";
  readonly Principal?: "*" | Readonly<Record<string, string | readonly string[]>>;
  readonly Resource?: string | readonly string[];
  readonly NotResource?: string | readonly string[];
  readonly Condition?: Conditions;
}

/** A statement names its actions, or (for a permissions boundary) the actions it excludes. */
export type Statement = StatementBase &
  (
    | { readonly Action: string | readonly string[]; readonly NotAction?: never }
    | { readonly NotAction: readonly string[]; readonly Action?: never }
  );

export interface PolicyDocument {
  readonly Version: "2012-10-17";
  readonly Statement: readonly Statement[];
}

export function policyDocument(...statements: Statement[]): string {
  const document: PolicyDocument = { Version: "2012-10-17", Statement: statements };
  return JSON.stringify(document);
}

/** Trust policy letting one AWS service assume a role, limited to this account. */
export function serviceTrustPolicy(service: string, accountId: string): string {
  return policyDocument({
    Effect: "Allow",
    Principal: { Service: service },
    Action: "sts:AssumeRole",
    Condition: { StringEquals: { "aws:SourceAccount": accountId } },
  });
}

/**
 * Identity-policy statements that read exactly `secretArns` and decrypt them with exactly `keyArn`,
 * only when Secrets Manager in `region` asks KMS on the caller's behalf.
 */
export function secretReadStatements(sid: string, secretArns: readonly string[], keyArn: string, region: string): Statement[] {
  return [
    {
      Sid: `${sid}Read`,
      Effect: "Allow",
      Action: ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
      Resource: [...secretArns],
    },
    {
      Sid: `${sid}Decrypt`,
      Effect: "Allow",
      Action: "kms:Decrypt",
      Resource: keyArn,
      Condition: { StringEquals: { "kms:ViaService": `secretsmanager.${region}.amazonaws.com` } },
    },
  ];
}
