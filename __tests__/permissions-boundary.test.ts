import { Aspects, Testing } from "cdktf";
import { Construct } from "constructs";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamPolicy } from "@cdktf/provider-aws/lib/iam-policy";
import { bootstrap, ENVIRONMENTS } from "../environments";
import { applyBoundaryName } from "../modules/bootstrap/ci-roles";
import { recordNamePatterns } from "../modules/bootstrap/environment-fence";
import { buildBootstrap } from "../modules/stacks/bootstrap-stack";
import { validateBootstrap } from "../environments/schema/validate";
import { PermissionsBoundaryAspect, workloadBoundaryArn } from "../modules/bootstrap/permissions-boundary";
import { environment } from "./support/fixtures";
import { Json, policy, resourceList, synth, synthConstruct, synthEnvironment } from "./support/synth";

describe.each(ENVIRONMENTS.map((e) => [e.name, e] as const))("the %s stack", (name, config) => {
  it("puts the environment's boundary on every role it creates", () => {
    const roles = resourceList(synthEnvironment(config).json, "aws_iam_role");
    expect(roles.length).toBeGreaterThanOrEqual(3);
    for (const role of roles)
      expect({ role: role.name, boundary: role.permissions_boundary }).toEqual({
        role: role.name,
        boundary: `arn:aws:iam::${config.accountId}:policy/${config.project}-boundary-${name}`,
      });
  });
});

describe("the bootstrap stack", () => {
  const { text, json } = synth(buildBootstrap(Testing.app(), bootstrap, ENVIRONMENTS));

  const named = (name: string): Json[] =>
    policy(resourceList(json, "aws_iam_policy").find((p) => p.name === name)!.policy).Statement as Json[];
  const sids = (statements: Json[]) => statements.map((st) => st.Sid);
  const FENCE = [
    "DenyOtherEnvironmentsResources",
    "DenyTaggingForOtherEnvironments",
    "KeepTheEnvironmentTag",
    "StateBucketObjectsOnly",
    "LockItemsOnly",
    "StateKeyUseOnly",
    "PlanKeysUseOnly",
    "AuditUntouched",
    "DenyOtherEnvironmentsState",
    "DenyOtherLocks",
    "AssumeOnlyTheEnvironmentsRoles",
    "NoCommandsOrSessions",
    "RunCodeOnlyInTheEnvironment",
    "OwnRecordNamesOnly",
    "OwnRecordTypesOnly",
    "NoZoneAdministration",
    "NoNewZonesOrResolverRules",
  ];

  it("creates each environment's boundary: everything but IAM, Organizations and account administration, inside the environment's fence", () => {
    const policies = resourceList(json, "aws_iam_policy").filter((p) => String(p.name).startsWith(`${bootstrap.project}-boundary-`));
    expect(policies.map((p) => p.name).sort()).toEqual(ENVIRONMENTS.map((e) => `${e.project}-boundary-${e.name}`).sort());
    for (const env of ENVIRONMENTS) {
      const statements = named(`${env.project}-boundary-${env.name}`);
      expect(statements[0]).toEqual({
        Sid: "EverythingButIdentityAndAccountAdministration",
        Effect: "Allow",
        NotAction: ["iam:*", "organizations:*", "account:*"],
        Resource: "*",
      });
      expect(statements.slice(1).every((st) => st.Effect === "Deny")).toBe(true);
      expect(sids(statements)).toEqual(expect.arrayContaining(FENCE));
      // The same fence, statement for statement, as the apply role's own boundary.
      expect(named(applyBoundaryName(env.project, env.name))).toEqual(expect.arrayContaining(statements.slice(1)));
    }
    expect(text).toHaveResourceWithProperties(IamPolicy, { name: `${bootstrap.project}-boundary-${ENVIRONMENTS.at(-1)!.name}` });
  });

  it.each(ENVIRONMENTS.map((e) => e.name))(
    "fences %s's record changes to its own names and A/CNAME records, and chains out nowhere",
    (env) => {
      const config = ENVIRONMENTS.find((e) => e.name === env)!;
      const bySid = Object.fromEntries(named(`${bootstrap.project}-boundary-${env}`).map((st) => [st.Sid, st]));
      const own = config.edge.hostedZone ? recordNamePatterns([config.edge.domainName, ...(config.edge.alternativeNames ?? [])]) : [];
      if (own.length > 0)
        expect(bySid.OwnRecordNamesOnly.Condition).toEqual({
          "ForAnyValue:StringNotLike": { "route53:ChangeResourceRecordSetsNormalizedRecordNames": own },
        });
      else expect(bySid.OwnRecordNamesOnly.Condition).toBeUndefined();
      expect(bySid.OwnRecordTypesOnly.Condition).toEqual({
        "ForAnyValue:StringNotEquals": { "route53:ChangeResourceRecordSetsRecordTypes": ["A", "CNAME"] },
      });
      expect(bySid.AssumeOnlyTheEnvironmentsRoles.NotResource).toBe(
        `arn:aws:iam::${bootstrap.accountId}:role/${bootstrap.project}-${env}-*`,
      );
      expect(bySid.NoCommandsOrSessions.Action).toEqual(
        expect.arrayContaining(["ssm:SendCommand", "ssm:Start*", "ec2-instance-connect:*"]),
      );
      expect(bySid.RunCodeOnlyInTheEnvironment).toEqual(
        expect.objectContaining({
          Action: expect.arrayContaining(["lambda:Invoke*"]),
          Condition: { StringNotEquals: { "aws:ResourceTag/Environment": env } },
        }),
      );
    },
  );

  it.each(ENVIRONMENTS.map((e) => e.name))(
    "lets the %s apply role grant permissions only to roles that carry the boundary, and never remove it",
    (env) => {
      const statements = named(`${bootstrap.project}-ci-${env}-apply`);
      const grant = statements.find((s) => s.Sid === "GrantOnlyWithinTheBoundary");
      expect(grant?.Action).toEqual(
        expect.arrayContaining(["iam:CreateRole", "iam:AttachRolePolicy", "iam:PutRolePolicy", "iam:PutRolePermissionsBoundary"]),
      );
      expect(grant?.Condition).toEqual({
        StringEquals: { "iam:PermissionsBoundary": workloadBoundaryArn(bootstrap.accountId, bootstrap.project, env) },
      });
      const unconditioned = statements.filter((s) => s.Effect === "Allow" && !s.Condition).flatMap((s) => [s.Action].flat());
      for (const action of ["iam:CreateRole", "iam:AttachRolePolicy", "iam:PutRolePolicy", "iam:PutRolePermissionsBoundary"])
        expect(unconditioned).not.toContain(action);
      // Its boundary says the same, whatever is attached to it later.
      const boundary = Object.fromEntries(named(applyBoundaryName(bootstrap.project, env)).map((st) => [st.Sid, st]));
      expect(boundary.RolesOnlyWithTheBoundary).toEqual(
        expect.objectContaining({
          Effect: "Deny",
          Condition: { StringNotEquals: { "iam:PermissionsBoundary": workloadBoundaryArn(bootstrap.accountId, bootstrap.project, env) } },
        }),
      );
      expect(boundary.RolesOnlyWithTheBoundary.Action).toEqual(grant?.Action);
      expect(boundary.KeepTheBoundary).toEqual(expect.objectContaining({ Effect: "Deny", Action: "iam:DeleteRolePermissionsBoundary" }));
      expect(boundary.IamOnlyOnOwnRoles).toEqual(expect.objectContaining({ Effect: "Deny", Action: "iam:*" }));
    },
  );

  it("refuses, before anything is written, a boundary IAM would refuse: too many environments' fences in one account", () => {
    const many = Array.from({ length: 12 }, (_, i) => environment({ name: `env${i}`, network: { vpcCidr: `10.${100 + i}.0.0/16` } }));
    const all = [...ENVIRONMENTS, ...many];
    const config = { ...bootstrap, ci: { ...bootstrap.ci!, environments: all.map((e) => ({ name: e.name })) } };
    expect(validateBootstrap(config, all)).toContainEqual(
      expect.stringMatching(
        new RegExp(
          `^bootstrap: environments = "\\w+": ${bootstrap.project}-ci-\\w+-apply-boundary would be \\d{4,} characters; IAM allows 6144`,
        ),
      ),
    );
    expect(validateBootstrap(bootstrap, ENVIRONMENTS)).toEqual([]);
  });

  it("creates no boundary for an environment in another account (it belongs to that account's bootstrap)", () => {
    const moved = ENVIRONMENTS.at(-1)!;
    const elsewhere = ENVIRONMENTS.map((e) => (e === moved ? environment({ accountId: "222222222222" }, e) : e));
    const other = synth(buildBootstrap(Testing.app(), { ...bootstrap, ci: undefined }, elsewhere));
    expect(
      resourceList(other.json, "aws_iam_policy")
        .map((p) => p.name)
        .filter((n) => n.startsWith(`${bootstrap.project}-boundary-`))
        .sort(),
    ).toEqual(
      elsewhere
        .filter((e) => e.name !== moved.name)
        .map((e) => `${e.project}-boundary-${e.name}`)
        .sort(),
    );
  });
});

describe("PermissionsBoundaryAspect", () => {
  it("covers a role added anywhere in the stack, however deep", () => {
    const { json } = synthConstruct((stack) => {
      Aspects.of(stack).add(new PermissionsBoundaryAspect("arn:aws:iam::111111111111:policy/b"));
      new IamRole(new Construct(new Construct(stack, "outer"), "inner"), "late", { assumeRolePolicy: "{}" });
      new IamRole(stack, "role", { assumeRolePolicy: "{}" });
    });
    expect(resourceList(json, "aws_iam_role").map((r) => r.permissions_boundary)).toEqual([
      "arn:aws:iam::111111111111:policy/b",
      "arn:aws:iam::111111111111:policy/b",
    ]);
  });
});
