import assert from "node:assert/strict";
import { test } from "node:test";
import { torch } from "../src/index.js";
import type { Tensor } from "../src/torch/index.js";
import { f64, gradcheck } from "./helpers.js";

const { tidy } = torch;
const r = (n: number, ...shape: number[]) => torch.arange(n, undefined, 1, { dtype: "float64" }).reshape(...shape);

test("reshape, view, flatten, permute, transpose, squeeze, unsqueeze, expand, repeat", () => tidy(() => {
  const x = r(6, 2, 3);
  assert.deepEqual(x.reshape(3, 2).toArray(), [[0, 1], [2, 3], [4, 5]]);
  assert.deepEqual(x.view(6).toArray(), [0, 1, 2, 3, 4, 5]);
  assert.deepEqual(r(24, 2, 3, 4).flatten(1).shape, [2, 12]);
  assert.deepEqual(x.transpose(0, 1).toArray(), [[0, 3], [1, 4], [2, 5]]);
  assert.deepEqual(x.T.toArray(), [[0, 3], [1, 4], [2, 5]]);
  assert.deepEqual(r(24, 2, 3, 4).permute(2, 0, 1).shape, [4, 2, 3]);
  assert.equal(r(24, 2, 3, 4).permute(2, 0, 1).select(0, 1).select(0, 1).select(0, 2).item(), 12 + 2 * 4 + 1);
  assert.deepEqual(r(3, 1, 3, 1).squeeze().shape, [3]);
  assert.deepEqual(r(3, 1, 3, 1).squeeze(0).shape, [3, 1]);
  assert.deepEqual(r(3, 3).unsqueeze(-1).shape, [3, 1]);
  assert.deepEqual(r(2, 2, 1).expand(2, 3).toArray(), [[0, 0, 0], [1, 1, 1]]);
  assert.deepEqual(r(2, 2).repeat(2, 2).toArray(), [[0, 1, 0, 1], [0, 1, 0, 1]]);
  assert.throws(() => x.transpose(0, 1).view(6), torch.TorchError);
  assert.deepEqual(x.transpose(0, 1).contiguous().view(6).toArray(), [0, 3, 1, 4, 2, 5]);
}));

test("cat, stack, split, chunk, narrow, select, slice", () => tidy(() => {
  const a = r(4, 2, 2);
  assert.deepEqual(torch.cat([a, a.add(10)], 0).shape, [4, 2]);
  assert.deepEqual(torch.cat([a, a.add(10)], 1).toArray(), [[0, 1, 10, 11], [2, 3, 12, 13]]);
  assert.deepEqual(torch.stack([a, a], 2).shape, [2, 2, 2]);
  assert.deepEqual(r(5, 5).split(2).map((t) => t.toArray()), [[0, 1], [2, 3], [4]]);
  assert.deepEqual(r(5, 5).split([1, 4]).map((t) => t.shape[0]), [1, 4]);
  assert.deepEqual(r(6, 6).chunk(3).map((t) => t.toArray()), [[0, 1], [2, 3], [4, 5]]);
  assert.deepEqual(r(10, 10).narrow(0, 3, 2).toArray(), [3, 4]);
  assert.deepEqual(r(10, 10).slice(0, 1, 9, 3).toArray(), [1, 4, 7]);
  assert.deepEqual(r(10, 10).slice(0, -2).toArray(), [8, 9]);
  assert.deepEqual(r(6, 2, 3).select(1, 2).toArray(), [2, 5]);
}));

test("indexSelect, gather, scatter, maskedFill, maskedSelect, where", () => tidy(() => {
  const x = r(6, 2, 3);
  const idx = torch.tensor([2, 0]);
  assert.deepEqual(x.indexSelect(1, idx).toArray(), [[2, 0], [5, 3]]);
  assert.deepEqual(x.gather(1, torch.tensor([[1], [2]])).toArray(), [[1], [5]]);
  assert.deepEqual(torch.zeros([2, 3], { dtype: "float64" }).scatter(1, torch.tensor([[1], [2]]), torch.tensor([[7], [8]], { dtype: "float64" })).toArray(), [[0, 7, 0], [0, 0, 8]]);
  assert.deepEqual(torch.zeros([2, 3]).scatter(1, torch.tensor([[0], [1]]), 5).toArray(), [[5, 0, 0], [0, 5, 0]]);
  assert.deepEqual(x.maskedFill(x.gt(3), -1).toArray(), [[0, 1, 2], [3, -1, -1]]);
  assert.deepEqual(x.maskedSelect(x.lt(2)).toArray(), [0, 1]);
  assert.throws(() => x.indexSelect(1, torch.tensor([5])), torch.TorchError);
}));

test("pad (constant, reflect, replicate, circular), flip, roll", () => tidy(() => {
  const x = r(3, 1, 1, 3);
  const F = torch.nn.functional;
  assert.deepEqual(F.pad(x, [1, 2]).toArray(), [[[0, 0, 1, 2, 0, 0]]]);
  assert.deepEqual(F.pad(x, [1, 1], "constant", 9).toArray(), [[[9, 0, 1, 2, 9]]]);
  assert.deepEqual(F.pad(x, [2, 2], "reflect").toArray(), [[[2, 1, 0, 1, 2, 1, 0]]]);
  assert.deepEqual(F.pad(x, [1, 1], "replicate").toArray(), [[[0, 0, 1, 2, 2]]]);
  assert.deepEqual(F.pad(x, [2, 1], "circular").toArray(), [[[1, 2, 0, 1, 2, 0]]]);
  const img = r(9, 1, 1, 3, 3);
  assert.deepEqual(F.pad(img, [1, 1, 1, 1], "circular").select(0, 0).select(0, 0).select(0, 0).toArray(), [8, 6, 7, 8, 6]);
  assert.deepEqual(r(4, 2, 2).flip(0, 1).toArray(), [[3, 2], [1, 0]]);
  assert.deepEqual(r(5, 5).roll(2, 0).toArray(), [3, 4, 0, 1, 2]);
  assert.deepEqual(r(4, 2, 2).roll([1, 1], [0, 1]).toArray(), [[3, 2], [1, 0]]);
}));

test("unfold (im2col) matches explicit patch extraction", () => tidy(() => {
  const x = f64([2, 3, 5, 4], 21);
  const cols = torch.nn.functional.unfold(x, [2, 3], { padding: 1, stride: [2, 1] });
  const Ho = Math.floor((5 + 2 - 2) / 2) + 1;
  const Wo = (4 + 2 - 3) / 1 + 1;
  assert.deepEqual(cols.shape, [2, 3 * 2 * 3, Ho * Wo]);
  const xp = torch.nn.functional.pad(x, [1, 1, 1, 1]);
  for (const [n, c, ki, kj, oi, oj] of [[0, 0, 0, 0, 0, 0], [1, 2, 1, 2, 2, 3], [0, 1, 1, 0, 1, 2]] as const) {
    const got = cols.select(0, n).select(0, c * 6 + ki * 3 + kj).select(0, oi * Wo + oj).item();
    const want = xp.select(0, n).select(0, c).select(0, oi * 2 + ki).select(0, oj + kj).item();
    assert.equal(got, want);
  }
}));

test("finite-difference gradients of shape and indexing ops", () => {
  const x = f64([2, 3, 4], 31);
  const F = torch.nn.functional;
  const cases: [string, (t: Tensor) => Tensor][] = [
    ["reshape", (t) => t.reshape(4, 6)], ["permute", (t) => t.permute(2, 0, 1)], ["transpose", (t) => t.transpose(0, 2)],
    ["flatten", (t) => t.flatten(1)], ["squeeze/unsqueeze", (t) => t.unsqueeze(1).squeeze(1)], ["expand", (t) => t.unsqueeze(0).expand(2, 2, 3, 4)],
    ["repeat", (t) => t.repeat(1, 2, 1)], ["cat", (t) => torch.cat([t, t.mul(2)], 1)], ["stack", (t) => torch.stack([t, t], 0)],
    ["split", (t) => t.split([1, 2], 1)[1]!], ["chunk", (t) => t.chunk(2, 2)[0]!], ["narrow", (t) => t.narrow(2, 1, 2)],
    ["select", (t) => t.select(1, 2)], ["slice", (t) => t.slice(2, 0, 4, 2)],
    ["indexSelect", (t) => t.indexSelect(2, torch.tensor([3, 0, 3]))], ["gather", (t) => t.gather(2, torch.tensor([[[1], [0], [3]], [[2], [2], [0]]]))],
    ["scatter", (t) => t.scatter(2, torch.tensor([[[1], [0], [3]], [[2], [2], [0]]]), t.narrow(2, 0, 1).mul(3))],
    ["maskedFill", (t) => t.maskedFill(t.gt(0), 0)], ["pad constant", (t) => F.pad(t, [1, 2])], ["pad reflect", (t) => F.pad(t, [2, 1], "reflect")],
    ["pad circular", (t) => F.pad(t.unsqueeze(0), [1, 2, 1, 0], "circular")], ["flip", (t) => t.flip(0, 2)], ["roll", (t) => t.roll([1, 3], [1, 2])],
    ["unfold", (t) => F.unfold(t.unsqueeze(0), 2, { padding: 1 })], ["contiguous", (t) => t.transpose(0, 1).contiguous()],
  ];
  for (const [name, f] of cases) gradcheck(f, [x], name);
});
