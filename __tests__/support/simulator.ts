// A thin adapter over the maintained IAM simulator @cloud-copilot/iam-simulate (identity policies,
// permissions boundaries, resource policies such as bucket, key and trust policies, condition operators,
// and which condition keys each action supports). The simulator takes the request context as given; this
// adapter adds what AWS always sets for a signed request by a role (aws:PrincipalArn, aws:PrincipalAccount,
// aws:SecureTransport). It refuses a simulation the simulator reports as invalid rather than calling it denied.
import { runSimulation } from "@cloud-copilot/iam-simulate";
import type { Json } from "./synth";

export type Outcome = "Allowed" | "ExplicitlyDenied" | "ImplicitlyDenied";

export interface SimRequest {
  /** The calling role's ARN (`arn:aws:iam::<account>:role/<name>`). */
  readonly principal: string;
  readonly action: string;
  readonly resource: string;
  readonly context?: Readonly<Record<string, string | readonly string[]>>;
}

export interface SimPrincipal {
  /** Identity policies (inline and attached) of the calling role. */
  readonly identity: readonly Json[];
  /** Its permissions boundary, if any. */
  readonly boundary?: Json;
}

const accountOf = (arn: string): string => /^arn:aws:[^:]+:[^:]*:(\d{12}):/.exec(arn)?.[1] ?? "";

export async function simulate(
  request: SimRequest,
  principal: SimPrincipal,
  resourcePolicy?: Json,
  resourceAccount?: string,
): Promise<Outcome> {
  const account = accountOf(request.principal);
  const result = await runSimulation(
    {
      request: {
        principal: request.principal,
        action: request.action,
        resource: { resource: request.resource, accountId: resourceAccount ?? (accountOf(request.resource) || account) },
        contextVariables: {
          "aws:PrincipalArn": request.principal,
          "aws:PrincipalAccount": account,
          "aws:SecureTransport": "true",
          ...Object.fromEntries(Object.entries(request.context ?? {}).map(([k, v]) => [k, typeof v === "string" ? v : [...v]])),
        },
      },
      identityPolicies: principal.identity.map((policy, i) => ({ name: `identity-${i}`, policy })),
      permissionBoundaryPolicies: principal.boundary ? [{ name: "boundary", policy: principal.boundary }] : undefined,
      resourcePolicy,
      serviceControlPolicies: [],
      resourceControlPolicies: [],
    },
    {},
  );
  if (result.resultType === "error") {
    throw new Error(`simulation of ${request.action} on ${request.resource} is invalid: ${JSON.stringify(result.errors)}`);
  }
  return result.overallResult as Outcome;
}
