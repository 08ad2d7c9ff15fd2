// The app's source as an environment names it: the repository, the ref to run and how the boot authenticates;
// its defaults, its check, and the warning for a ref still at the template's example.
import type { Problems } from "../primitives/validation";

/** The app's source: where it lives, which ref to run, and how to authenticate. */
export interface RepositorySettings {
  /** Clone URL: `https://...` for a token, `ssh://...` or `git@host:path` for a deploy key. */
  readonly url: string;
  /**
   * What to run: a full 40-character commit SHA, `refs/tags/<tag>`, or `refs/heads/<branch>` (only with
   * `allowBranchRef`). Changing it changes the launch template, and the instance refresh rolls the fleet.
   */
  readonly ref: string;
  /**
   * Folder of the app inside the repository (for example `examples/app`): only it is kept, and the build,
   * the app and its cron jobs run there. @default "" (the repository's root)
   */
  readonly directory?: string;
  /** Allow a branch ref (its newest commit is fetched at each boot, so instances may differ). @default false */
  readonly allowBranchRef?: boolean;
  /**
   * What the repository credential secret (`<project>-<env>/repository-credential`) holds: an SSH deploy key or
   * an HTTPS token, read-only on the repository. `"none"` for a public repository cloned over HTTPS: the boot
   * reads no credential, and the secret stays empty.
   */
  readonly credentialType: "ssh-key" | "https-token" | "none";
  /** User name sent with an HTTPS token. @default "x-access-token" */
  readonly httpsUsername?: string;
  /** known_hosts lines for the SSH host. @default [] (the host key is accepted on first use and logged) */
  readonly sshKnownHosts?: readonly string[];
}

/** The repository settings with every default filled in. */
export interface ResolvedRepositorySettings extends RepositorySettings {
  readonly directory: string;
  readonly allowBranchRef: boolean;
  readonly httpsUsername: string;
  readonly sshKnownHosts: readonly string[];
}

/** The repository settings' defaults, written once. */
export function resolveRepository(repo: RepositorySettings): ResolvedRepositorySettings {
  return {
    ...repo,
    directory: repo.directory ?? "",
    allowBranchRef: repo.allowBranchRef ?? false,
    httpsUsername: repo.httpsUsername ?? "x-access-token",
    sshKnownHosts: repo.sshKnownHosts ?? [],
  };
}

const SHA = /^[0-9a-f]{40}$/;
const TAG_REF = /^refs\/tags\/[^\s~^:?*[\\]+$/;
const BRANCH_REF = /^refs\/heads\/[^\s~^:?*[\\]+$/;

/** The kind of a repository ref, or undefined when it is none of the accepted forms. */
export function refKind(ref: string): "commit" | "tag" | "branch" | undefined {
  if (SHA.test(ref)) return "commit";
  if (TAG_REF.test(ref)) return "tag";
  if (BRANCH_REF.test(ref)) return "branch";
  return undefined;
}

/**
 * The refs environments/staging.ts and prod.ts ship with: examples of the two forms, which no repository has
 * (not the template's, not a fork of it). Until an environment pins a tag or commit of the team's own, its
 * instances would fail to fetch the app, so synth warns (README: "Making it yours").
 */
export const TEMPLATE_EXAMPLE_REFS: readonly string[] = ["refs/tags/v1.4.2", "9f2c4e1b7a3d5f60812c4e9b0a7d3f5e6c1b2a40"];

/** The warning for a ref that is still one of the template's examples (raised on the stack's preflight). */
export function templateRefWarning(ref: string): { readonly id: "compute.repository.ref"; readonly message: string } | undefined {
  if (!TEMPLATE_EXAMPLE_REFS.includes(ref)) return undefined;
  const what =
    refKind(ref) === "tag"
      ? "tag a commit of the app's repository (compute.repository.url) and set refs/tags/<your tag> here"
      : "set the full SHA of a commit of the app's repository (compute.repository.url), for a release tag git rev-parse <tag>^{commit}";
  return {
    id: "compute.repository.ref",
    message: `is ${JSON.stringify(ref)}, the template's example, which no repository has: every instance would fail to fetch the app; ${what} (README: "Making it yours")`,
  };
}

/** One line per problem of the resolved repository settings, fields relative to `repository`. */
export function checkRepository(repo: ResolvedRepositorySettings, problems: Problems): void {
  const url = repo.url.trim();
  if (problems.check(url.length > 0, "url", repo.url, "must name the app's repository")) {
    // App instances reach the Internet on 443 only (their security group), so the git host must answer there.
    const reach443 =
      "app instances reach the Internet on port 443 only; use the git host's SSH-over-443 endpoint, for example ssh://git@ssh.github.com:443/org/app.git";
    if (repo.credentialType !== "ssh-key") {
      const needs =
        repo.credentialType === "none"
          ? 'credentialType "none" (a public repository) needs an https:// URL without credentials in it; an SSH URL always needs a key ("ssh-key")'
          : `credentialType ${JSON.stringify(repo.credentialType)} needs an https:// URL without credentials in it`;
      if (problems.check(/^https:\/\/[^\s@/]+\/\S+$/.test(url), "url", repo.url, needs)) {
        problems.check(
          !/^https:\/\/[^\s@/]+:(?!443\/)\d+\//.test(url),
          "url",
          repo.url,
          "app instances reach the Internet on port 443 only; drop the other port",
        );
      }
    } else if (
      problems.check(
        /^(ssh:\/\/[^\s/]+\/\S+|[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:\S+)$/.test(url),
        "url",
        repo.url,
        'credentialType "ssh-key" needs an ssh:// or user@host:path URL',
      )
    ) {
      problems.check(/^ssh:\/\/[^\s/]+:443\/\S+$/.test(url), "url", repo.url, reach443);
    }
  }
  problems.check(
    ["ssh-key", "https-token", "none"].includes(repo.credentialType),
    "credentialType",
    repo.credentialType,
    'must be "ssh-key", "https-token" or "none" (a public repository)',
  );
  if (!problems.check(repo.ref.trim().length > 0, "ref", repo.ref, "must name the commit, tag or branch to run")) return;
  const kind = refKind(repo.ref);
  if (kind === undefined) {
    const hint = /^[0-9a-f]{7,39}$/.test(repo.ref)
      ? "an abbreviated SHA is ambiguous; give all 40 characters"
      : "give a full commit SHA, refs/tags/<tag> or refs/heads/<branch>";
    problems.add("ref", repo.ref, `not a ref this project accepts: ${hint}`);
  } else if (kind === "branch" && !repo.allowBranchRef) {
    problems.add(
      "ref",
      repo.ref,
      "is a branch, and this environment demands a pinned commit or tag (set repository.allowBranchRef to allow it)",
    );
  }
  if (repo.directory !== "") {
    problems.check(
      /^[A-Za-z0-9_-][A-Za-z0-9._-]*(\/[A-Za-z0-9_-][A-Za-z0-9._-]*)*$/.test(repo.directory),
      "directory",
      repo.directory,
      "must be a relative folder path inside the repository (letters, digits, . _ -; no leading /, no . or .. parts)",
    );
  }
  problems.check(
    /^[A-Za-z0-9._-]+$/.test(repo.httpsUsername),
    "httpsUsername",
    repo.httpsUsername,
    "must be letters, digits, '.', '_' or '-'",
  );
  repo.sshKnownHosts.forEach((line, i) => {
    problems.check(
      /^\S+ \S+ \S+/.test(line) && !line.includes("\n"),
      `sshKnownHosts[${i}]`,
      line,
      "not a known_hosts line (host keytype key)",
    );
  });
}
