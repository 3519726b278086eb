import type { InventoryData } from '@cinode/contracts';
import { RunningTasks } from './inventory-source';

const observed: InventoryData = {
  cpuServers: 2,
  cpuCoresTotal: 128,
  cpuCoresFree: 100,
  gpuServers: 1,
  gpuCardsTotal: 8,
  gpuCardsFree: 2,
  npuServers: 0,
  npuCardsTotal: 0,
  npuCardsFree: 0,
  fp16TflopsTotal: 100,
  fp16TflopsFree: 20,
  fp32TflopsTotal: 10,
  fp32TflopsFree: 2,
  memoryGibTotal: 1024,
  memoryGibFree: 1000,
  storageGibTotal: 2000,
  storageGibFree: 1000,
  uplinkMbpsTotal: 1000,
  uplinkMbpsFree: 1000,
  uplinkTrafficGbFree: 10,
  downlinkMbpsTotal: 1000,
  downlinkMbpsFree: 1000,
  downlinkTrafficGbFree: 10,
};

describe(RunningTasks.name, () => {
  it("adds the node's running tasks back to what a real inventory reports, up to the totals", () => {
    const running = new RunningTasks();
    const task = { cpuCores: 16, gpuCards: 4, npuCards: 0, memoryGib: 64, storageGib: 0 };
    running.take('p', task);
    expect(running.reported('p', observed, true)).toMatchObject({
      cpuCoresFree: 116,
      gpuCardsFree: 6,
      memoryGibFree: 1024,
      storageGibFree: 1000,
    });
    // The simulation's load leaves the tasks out: reported as observed.
    expect(running.reported('p', observed, false)).toEqual(observed);
    running.give('p', task);
    expect(running.reported('p', observed, true)).toEqual(observed);
  });
});
