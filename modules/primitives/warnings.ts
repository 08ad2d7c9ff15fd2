// Warnings a construct raises at synth, each with a typed id: the setting it is about, within the construct.
// An environment acknowledges one as `<construct path in the stack>.<id>` (`network.natGateways`); synth matches
// on the id the warning carries, never on its text.
import { Annotations } from "cdktf";
import type { IConstruct } from "constructs";

/** A warning: `id` names the setting it is about (within the construct that raises it); `message` is printed. */
export interface Warning<Id extends string = string> {
  readonly id: Id;
  readonly message: string;
}

/** The construct metadata type that carries a warning's id (not written to the synthesized JSON). */
const WARNING_ID = "webapp-platform/warning-id";

/** Raises `warning` on `scope` as a cdktf warning annotation, carrying its id. */
export function addWarning(scope: IConstruct, warning: Warning): void {
  Annotations.of(scope).addWarning(warning.message);
  scope.node.addMetadata(WARNING_ID, warning);
}

/** The id of the warning `message` that addWarning raised on `scope`; undefined for any other warning. */
export function warningId(scope: IConstruct, message: string): string | undefined {
  const entry = scope.node.metadata.find((e) => e.type === WARNING_ID && (e.data as Warning).message === message);
  return (entry?.data as Warning | undefined)?.id;
}
