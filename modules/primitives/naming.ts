// Resource names and the standard tags every resource carries (through the provider's default tags; the Auto
// Scaling group, which default tags do not reach, and what it launches carry them explicitly).

export interface NamingProps {
  readonly project: string;
  readonly environment: string;
  readonly repository: string;
  readonly extraTags?: Readonly<Record<string, string>>;
}

/** `<project>-<environment>`, the prefix of every resource name in an environment. */
export function namePrefix(project: string, environment: string): string {
  return `${project}-${environment}`;
}

/** Project, Environment, ManagedBy and Repository, plus any extra tags (which may not override these four). */
export function standardTags(props: NamingProps): Record<string, string> {
  return {
    ...(props.extraTags ?? {}),
    Project: props.project,
    Environment: props.environment,
    ManagedBy: "cdktf",
    Repository: props.repository,
  };
}
