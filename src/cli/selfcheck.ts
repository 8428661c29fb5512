// `advdyn selfcheck`: trains a small classifier on seeded synthetic images and checks that it
// learns, exercising creation, autograd, the SGD step, memory scopes and readback end to end.
import * as optim from "../optim/index.js";
import * as torch from "../torch/index.js";
import type { Device, Tensor } from "../torch/index.js";
import { Command } from "commander";
import { Progress } from "../util/progress.js";
import { deviceOption, integer } from "./options.js";
import { table } from "./table.js";

export interface SelfcheckOptions {
  epochs: number;
  seed: number;
  device: Device;
}

export interface SelfcheckResult {
  libtorchThreads: number;
  cudaAvailable: boolean;
  device: Device;
  epochs: { epoch: number; loss: number; trainAccuracy: number; imagesPerSecond: number }[];
  testAccuracy: number;
  /** Cross-entropy on the test set before and after training. */
  testLoss: { initial: number; final: number };
  leakedTensors: number;
  passed: boolean;
}

const CLASSES = 3;
const SIDE = 16;

/** Images = a faint class-specific plane wave under unit Gaussian noise; labels uniform. */
function makeData(n: number, g: torch.Generator, device: Device): { x: Tensor; y: Tensor } {
  return torch.tidy(() => {
    const y = torch.randint(0, CLASSES, [n], { generator: g });
    const i = torch.arange(SIDE, undefined, 1, { dtype: "float32" }).reshape(SIDE, 1);
    const j = torch.arange(SIDE, undefined, 1, { dtype: "float32" }).reshape(1, SIDE);
    const waves = torch.stack(
      [[1, 0], [0, 2], [3, 3]].map(([u, v]) => torch.cos(i.mul((2 * Math.PI * u!) / SIDE).add(j.mul((2 * Math.PI * v!) / SIDE))).mul(0.2)),
    );
    const x = waves.indexSelect(0, y).unsqueeze(1).expand(n, 3, SIDE, SIDE).add(torch.randn([n, 3, SIDE, SIDE], { generator: g }));
    return { x: x.to(device), y: y.to(device) };
  });
}

export function selfcheck(o: SelfcheckOptions): SelfcheckResult {
  const liveBefore = torch.memory().tensors;
  const g = new torch.Generator(o.seed);
  const train = makeData(2048, g, o.device);
  const test = makeData(512, g, o.device);
  const F = torch.nn.functional;
  const d = 3 * SIDE * SIDE;
  const init = (shape: number[], fanIn: number) =>
    torch.tidy(() => torch.randn(shape, { generator: g, device: o.device }).mul(1 / Math.sqrt(fanIn)).requiresGrad_());
  const params = [init([128, d], d), torch.zeros([128], { device: o.device, requiresGrad: true }), init([CLASSES, 128], 128), torch.zeros([CLASSES], { device: o.device, requiresGrad: true })];
  const [w1, b1, w2, b2] = params as [Tensor, Tensor, Tensor, Tensor];
  const forward = (x: Tensor) => F.linear(F.relu(F.linear(x.flatten(1), w1, b1)), w2, b2);
  const testLoss = () => torch.tidy(() => torch.noGrad(() => F.crossEntropy(forward(test.x), test.y).item()));
  const initialLoss = testLoss();
  const sgd = new optim.SGD(params, { lr: 0.05, momentum: 0.9 });
  const batch = 128;
  const n = train.x.shape[0]!;
  const epochs: SelfcheckResult["epochs"] = [];
  const progress = new Progress("selfcheck", o.epochs * (n / batch), "batch");
  for (let epoch = 1; epoch <= o.epochs; epoch++) {
    const start = performance.now();
    let lossSum = 0;
    let correct = 0;
    const order = torch.randperm(n, { generator: g, device: o.device });
    for (let k = 0; k < n; k += batch) {
      const [loss, hits] = torch.tidy(() => {
        const idx = order.narrow(0, k, batch);
        const x = train.x.indexSelect(0, idx);
        const y = train.y.indexSelect(0, idx);
        sgd.zeroGrad();
        const logits = forward(x);
        const l = F.crossEntropy(logits, y);
        l.backward();
        sgd.step();
        return [l.item(), logits.argmax(1).eq(y).sum().item()];
      });
      lossSum += loss * batch;
      correct += hits;
      progress.tick(1, { epoch, loss });
    }
    order.dispose();
    epochs.push({ epoch, loss: lossSum / n, trainAccuracy: correct / n, imagesPerSecond: n / ((performance.now() - start) / 1000) });
  }
  const testAccuracy = torch.tidy(() => torch.noGrad(() => forward(test.x).argmax(1).eq(test.y).float().mean().item()));
  const finalLoss = testLoss();
  torch.dispose([train, test, params]);
  sgd.dispose();
  g.dispose();
  return {
    libtorchThreads: torch.getNumThreads(),
    cudaAvailable: torch.cuda.isAvailable(),
    device: o.device,
    epochs,
    testAccuracy,
    testLoss: { initial: initialLoss, final: finalLoss },
    leakedTensors: torch.memory().tensors - liveBefore,
    // Learned: the test loss fell below the untrained model's and the accuracy is far above chance (1/3), whatever the epoch count.
    passed: finalLoss < initialLoss && testAccuracy > 0.9 && torch.memory().tensors === liveBefore,
  };
}

export function selfcheckCommand(): Command {
  return new Command("selfcheck")
    .option("--epochs <n>", "epochs", integer(1), 5)
    .option("--seed <n>", "seed of the data and weights", integer(0), 0)
    .addOption(deviceOption())
    .option("--json", "print the result as JSON")
    .action((o: { epochs: number; seed: number; device: Device; json?: boolean }) => {
      const result = selfcheck(o);
      if (o.json) console.log(JSON.stringify(result, null, 2));
      else {
        console.log(`libtorch threads: ${result.libtorchThreads}, CUDA available: ${result.cudaAvailable}, device: ${result.device}`);
        console.log(table(["epoch", "loss", "train acc", "images/s"], result.epochs.map((e) => [e.epoch, e.loss.toFixed(4), e.trainAccuracy.toFixed(4), e.imagesPerSecond.toFixed(0)])));
        console.log(`test loss ${result.testLoss.initial.toFixed(4)} → ${result.testLoss.final.toFixed(4)}, test accuracy ${result.testAccuracy.toFixed(4)}; tensors leaked: ${result.leakedTensors}`);
        console.log(result.passed ? "selfcheck passed" : "selfcheck FAILED: the model did not learn, or tensors leaked");
      }
      if (!result.passed) process.exitCode = 1;
    });
}
