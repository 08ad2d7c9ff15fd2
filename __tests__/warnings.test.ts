// Warnings with a typed id (modules/primitives/warnings.ts): the id travels with the warning on its construct, the
// printed text is the cdktf annotation as before.
import { AnnotationMetadataEntryType, Annotations, App, TerraformStack } from "cdktf";
import { Construct } from "constructs";
import { addWarning, warningId } from "../modules/primitives/warnings";

describe("addWarning", () => {
  const scope = () => new Construct(new TerraformStack(new App({ stackTraces: false }), "dev"), "network");

  it("raises a cdktf warning with the message, and carries the id", () => {
    const network = scope();
    addWarning(network, { id: "natGateways", message: 'natGateways is "single" across 2 zones' });
    addWarning(network, { id: "flowLogs", message: "no flow logs" });
    const warnings = network.node.metadata.filter((e) => e.type === AnnotationMetadataEntryType.WARN).map((e) => e.data);
    expect(warnings).toEqual(['natGateways is "single" across 2 zones', "no flow logs"]);
    expect(warningId(network, 'natGateways is "single" across 2 zones')).toBe("natGateways");
    expect(warningId(network, "no flow logs")).toBe("flowLogs");
  });

  it("gives no id to a warning raised otherwise, or on another construct", () => {
    const network = scope();
    Annotations.of(network).addWarning("natGateways is none");
    addWarning(new Construct(network, "inner"), { id: "natGateways", message: "natGateways is none" });
    expect(warningId(network, "natGateways is none")).toBeUndefined();
  });
});
