import { allocate, blockSize, contains, formatCidr, overlaps, parseCidr } from "../modules/primitives/cidr";

const cidr = (text: string) => {
  const parsed = parseCidr(text);
  if (!parsed) throw new Error(`bad test CIDR ${text}`);
  return parsed;
};

describe("parseCidr", () => {
  it.each(["10.0.0.0/16", "0.0.0.0/0", "192.168.1.128/25", "255.255.255.255/32"])("accepts %s and formats it back", (text) => {
    expect(formatCidr(cidr(text))).toBe(text);
  });

  it.each(["10.0.0.0", "10.0.0.0/33", "256.0.0.0/8", "10.0.0.1/16", "10.0.0/16", "a.b.c.d/8", " 10.0.0.0/16", "10.0.0.0/-1"])(
    "rejects %s",
    (text) => {
      expect(parseCidr(text)).toBeUndefined();
    },
  );
});

describe("contains and overlaps", () => {
  it("knows containment at the edges", () => {
    expect(contains(cidr("10.0.0.0/16"), cidr("10.0.255.0/24"))).toBe(true);
    expect(contains(cidr("10.0.0.0/16"), cidr("10.1.0.0/24"))).toBe(false);
    expect(contains(cidr("10.0.0.0/24"), cidr("10.0.0.0/16"))).toBe(false);
    expect(contains(cidr("10.0.0.0/16"), cidr("10.0.0.0/16"))).toBe(true);
  });

  it("knows adjacent blocks do not overlap", () => {
    expect(overlaps(cidr("10.0.0.0/24"), cidr("10.0.1.0/24"))).toBe(false);
    expect(overlaps(cidr("10.0.0.0/23"), cidr("10.0.1.0/24"))).toBe(true);
    expect(overlaps(cidr("10.0.0.0/8"), cidr("10.200.0.0/16"))).toBe(true);
  });
});

describe("allocate", () => {
  it("packs largest first and returns blocks in request order, aligned", () => {
    const blocks = allocate(cidr("10.0.0.0/16"), [24, 20, 24, 20]);
    expect(blocks?.map(formatCidr)).toEqual(["10.0.32.0/24", "10.0.0.0/20", "10.0.33.0/24", "10.0.16.0/20"]);
    for (const block of blocks ?? []) expect(block.base % blockSize(block.prefixLength)).toBe(0);
  });

  it("fills the parent exactly and refuses one block more", () => {
    expect(allocate(cidr("10.0.0.0/24"), [25, 26, 26])?.map(formatCidr)).toEqual(["10.0.0.0/25", "10.0.0.128/26", "10.0.0.192/26"]);
    expect(allocate(cidr("10.0.0.0/24"), [25, 26, 26, 28])).toBeUndefined();
  });

  it("refuses a block larger than the parent", () => {
    expect(allocate(cidr("10.0.0.0/24"), [23])).toBeUndefined();
  });

  it("gives nothing for nothing", () => {
    expect(allocate(cidr("10.0.0.0/24"), [])).toEqual([]);
  });
});
