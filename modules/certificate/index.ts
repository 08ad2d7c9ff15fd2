// The app's TLS certificate (ACM, DNS validation) and, where the environment names a Route 53 hosted zone,
// its validation records and the alias records that point the app's names at the load balancer.
// Where DNS is hosted elsewhere it creates no Route 53 resource: the validation records are exposed for
// the operator to publish. It creates no listener: the load balancer consumes `arn`.
import { Fn, IResolvable, TerraformIterator, Token } from "cdktf";
import { Construct } from "constructs";
import { AcmCertificate } from "@cdktf/provider-aws/lib/acm-certificate";
import { AcmCertificateValidation } from "@cdktf/provider-aws/lib/acm-certificate-validation";
import { Route53Record } from "@cdktf/provider-aws/lib/route53-record";
import { assertValid, Problems } from "../primitives/validation";

/** A public Route 53 hosted zone that holds the app's names. */
export interface HostedZone {
  /** Zone id, for example `Z0123456789ABCDEFGHIJ`. */
  readonly id: string;
  /** Zone apex, for example `example.com` (a trailing dot is accepted). */
  readonly name: string;
}

/** The names an environment serves and where their DNS lives. */
export interface CertificateSettings {
  /** The app's host name, for example `app.example.com`; the app URL is `https://<domainName>`. No wildcard. */
  readonly domainName: string;
  /**
   * More names on the certificate, for example `www.app.example.com` or `*.app.example.com` (a wildcard
   * only as the whole leftmost label). Non-wildcard names also get alias records when a zone is named.
   * @default []
   */
  readonly alternativeNames?: readonly string[];
  /**
   * Route 53 zone holding every name above: validation and alias records are created in it and apply
   * waits for issuance. Without it, DNS is external: the outputs list the validation records to publish
   * and the load balancer's DNS name to point a CNAME at.
   * @default none (external DNS)
   */
  readonly hostedZone?: HostedZone;
}

export interface CertificateProps extends CertificateSettings {
  /** Prefix of resource names, for example `webapp-dev`. */
  readonly namePrefix: string;
}

/** Where an alias record points: a load balancer's DNS name and its canonical hosted zone. */
export interface AliasTarget {
  readonly dnsName: string;
  readonly zoneId: string;
}

/** One DNS record the operator publishes at an external DNS host for validation. */
export interface ValidationRecord {
  readonly name: string;
  readonly type: string;
  readonly value: string;
}

/** ACM's limit on names per certificate (the default quota is 10; 100 is the most it can be raised to). */
export const MAX_CERTIFICATE_NAMES = 100;
const MAX_NAME_LENGTH = 253;
const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const HOSTED_ZONE_ID = /^Z[A-Z0-9]{1,31}$/;

/** `name` without one trailing dot. */
function normalize(name: string): string {
  return name.endsWith(".") ? name.slice(0, -1) : name;
}

/**
 * What is wrong with `name` as a DNS name on a public certificate, or undefined if nothing is.
 * A wildcard is allowed only as the whole leftmost label, and only where `allowWildcard` is set.
 */
export function dnsNameProblem(name: string, allowWildcard: boolean): string | undefined {
  if (name.length === 0) return "must not be empty";
  if (name !== name.trim()) return "must not have leading or trailing spaces";
  if (name !== name.toLowerCase()) return "use lowercase (DNS names are case-insensitive; ACM and Route 53 store lowercase)";
  if (name.endsWith(".")) return "give the name without a trailing dot";
  if (name.length > MAX_NAME_LENGTH) return `longer than ${MAX_NAME_LENGTH} characters`;
  const labels = name.split(".");
  const wildcard = labels[0] === "*";
  if (name.includes("*")) {
    if (!allowWildcard) return "no wildcard here: the app's own name is one host (put wildcards in alternativeNames)";
    if (!wildcard || labels.slice(1).some((label) => label.includes("*")))
      return "a wildcard may only be the whole leftmost label, as in *.app.example.com";
    if (labels.length < 3) return "a wildcard needs at least two labels after it, as in *.example.com";
  }
  if (labels.length < 2) return "needs at least two labels, as in app.example.com";
  const bad = labels.slice(wildcard ? 1 : 0).find((label) => !LABEL.test(label));
  if (bad !== undefined) {
    return `label ${JSON.stringify(bad)} is not 1-63 of a-z, 0-9 and - (not starting or ending with -)`;
  }
  if (/^\d+$/.test(labels[labels.length - 1] ?? "")) return "the top-level label cannot be all digits";
  return undefined;
}

/** Whether `name` is the zone apex or a name under it. */
export function isUnderZone(name: string, zoneName: string): boolean {
  const zone = normalize(zoneName).toLowerCase();
  const host = normalize(name).toLowerCase();
  return host === zone || host.endsWith(`.${zone}`);
}

export function checkCertificateSettings(props: CertificateSettings, problems: Problems): void {
  const domainProblem = dnsNameProblem(props.domainName, false);
  problems.check(domainProblem === undefined, "domainName", props.domainName, domainProblem ?? "");

  const alternatives = props.alternativeNames ?? [];
  problems.check(
    alternatives.length + 1 <= MAX_CERTIFICATE_NAMES,
    "alternativeNames",
    alternatives.length,
    `ACM allows at most ${MAX_CERTIFICATE_NAMES} names per certificate, the domain name included`,
  );
  alternatives.forEach((name, i) => {
    const field = `alternativeNames[${i}]`;
    const problem = dnsNameProblem(name, true);
    if (!problems.check(problem === undefined, field, name, problem ?? "")) return;
    problems.check(name !== props.domainName, field, name, "repeats domainName");
    problems.check(alternatives.indexOf(name) === i, field, name, "listed twice");
  });

  const zone = props.hostedZone;
  if (!zone) return;
  problems.check(
    HOSTED_ZONE_ID.test(zone.id),
    "hostedZone.id",
    zone.id,
    "not a Route 53 hosted zone id (Z followed by upper-case letters and digits)",
  );
  const zoneName = normalize(zone.name);
  const zoneProblem = dnsNameProblem(zoneName, false);
  if (!problems.check(zoneProblem === undefined, "hostedZone.name", zone.name, zoneProblem ?? "")) return;
  if (domainProblem === undefined) {
    problems.check(isUnderZone(props.domainName, zoneName), "domainName", props.domainName, `not in the hosted zone ${zoneName}`);
  }
  alternatives.forEach((name, i) => {
    if (dnsNameProblem(name, true) !== undefined) return;
    problems.check(
      isUnderZone(name, zoneName),
      `alternativeNames[${i}]`,
      name,
      `not in the hosted zone ${zoneName}: Route 53 cannot publish its validation record there`,
    );
  });
}

/** The certificate as other modules consume it. */
export interface CertificateRefs {
  /** ARN of the certificate, resolved only once ACM has issued it (listeners wait for it). */
  readonly arn: string;
  readonly domainName: string;
}

export class Certificate extends Construct implements CertificateRefs {
  readonly certificate: AcmCertificate;
  readonly validation: AcmCertificateValidation;
  readonly arn: string;
  readonly domainName: string;
  readonly alternativeNames: readonly string[];
  readonly hostedZone?: HostedZone;
  /** The DNS records that prove control of the names, one per distinct record (a list of ValidationRecord). */
  readonly validationRecords: IResolvable;

  constructor(scope: Construct, id: string, props: CertificateProps) {
    super(scope, id);
    assertValid(this, props, checkCertificateSettings);
    this.domainName = props.domainName;
    this.alternativeNames = [...(props.alternativeNames ?? [])];
    this.hostedZone = props.hostedZone;

    this.certificate = new AcmCertificate(this, "certificate", {
      domainName: props.domainName,
      subjectAlternativeNames: this.alternativeNames.length > 0 ? [...this.alternativeNames] : undefined,
      validationMethod: "DNS",
      keyAlgorithm: "RSA_2048",
      options: { certificateTransparencyLoggingPreference: "ENABLED" },
      tags: { Name: `${props.namePrefix}-${props.domainName}` },
      // A changed name list replaces the certificate; the listener moves to the new one before the old goes.
      lifecycle: { createBeforeDestroy: true },
    });

    const options = TerraformIterator.fromComplexList(this.certificate.domainValidationOptions, "domain_name");
    this.validationRecords = Token.asAny(
      Fn.distinct(
        Token.asList(
          options.forExpressionForList(
            "{ name = val.resource_record_name, type = val.resource_record_type, value = val.resource_record_value }",
          ),
        ),
      ),
    );

    let fqdns: string[] | undefined;
    if (props.hostedZone) {
      // One record per name on the certificate, keyed by the names themselves: keys taken from
      // domain_validation_options are unknown while the certificate is being created with more than one name
      // (a set with unknown members cannot be ordered into a list), and Terraform refuses such a for_each.
      // A wildcard and its base name share one validation record, hence allow_overwrite.
      const names = TerraformIterator.fromList([props.domainName, ...this.alternativeNames]);
      const byName = options.forExpressionForMap("val.domain_name", "val");
      const option = (attribute: string) => Token.asString(Fn.lookupNested(byName, [names.value, attribute]));
      const records = new Route53Record(this, "validation-record", {
        forEach: names,
        zoneId: props.hostedZone.id,
        name: option("resource_record_name"),
        type: option("resource_record_type"),
        records: [option("resource_record_value")],
        ttl: 300,
        allowOverwrite: true,
      });
      fqdns = Token.asList(TerraformIterator.fromResources(records).pluckProperty("fqdn"));
    }

    // With external DNS this waits until the operator has published the records (see docs/dns-and-certificates.md).
    this.validation = new AcmCertificateValidation(this, "validation", {
      certificateArn: this.certificate.arn,
      validationRecordFqdns: fqdns,
    });
    this.arn = this.validation.certificateArn;
  }

  /**
   * Alias A records in the hosted zone for the domain name and every non-wildcard alternative name,
   * pointing at `target`. Does nothing when DNS is external.
   */
  routeTo(target: AliasTarget): Route53Record[] {
    const zone = this.hostedZone;
    if (!zone) return [];
    const names = [this.domainName, ...this.alternativeNames.filter((name) => !name.startsWith("*."))];
    return names.map(
      (name, i) =>
        new Route53Record(this, i === 0 ? "alias" : `alias-${name}`, {
          zoneId: zone.id,
          name,
          type: "A",
          alias: { name: target.dnsName, zoneId: target.zoneId, evaluateTargetHealth: true },
          // The cut-over replaces the name's A record (the old server's) in one change, rather than failing on it.
          allowOverwrite: true,
        }),
    );
  }
}
