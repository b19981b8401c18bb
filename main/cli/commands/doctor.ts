import { existsSync } from 'node:fs';
import os from 'node:os';
import type { CliCommand } from '../types';
import { APP_VERSION, onnxruntimeVersion } from '../../backend/services/app';
import { nodeCheck } from '../../backend/services/node-requirement';

export const doctorCommand: CliCommand = {
  name: 'doctor',
  summary: 'Check this machine: versions, ONNX Runtime execution providers, CPUs, workspace path',
  options: {},
  examples: ['lethe doctor', 'lethe doctor --json'],
  async run(ctx) {
    const ort = await import('onnxruntime-node');
    const backends = ort.listSupportedBackends().map((b) => ({ name: b.name, bundled: b.bundled }));
    const cpus = os.cpus();
    const report = {
      lethe: APP_VERSION,
      node: process.versions.node,
      nodeRequirement: nodeCheck(),
      electron: process.versions.electron ?? null,
      onnxruntime: await onnxruntimeVersion(),
      executionProviders: backends,
      platform: `${process.platform} ${os.release()}`,
      arch: process.arch,
      cpus: { count: os.availableParallelism?.() ?? cpus.length, model: cpus[0]?.model?.trim() ?? 'unknown' },
      memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
      workspace: { path: ctx.workspaceRoot, exists: existsSync(ctx.workspaceRoot) },
    };
    const human = [
      `Lethe        ${report.lethe}`,
      `Node.js      ${report.node} (Lethe needs ${report.nodeRequirement.needs}: ${report.nodeRequirement.satisfied ? 'satisfied' : 'NOT satisfied: dependencies declare a newer Node.js (npm ci warns EBADENGINE); install one in that range'})`,
      `Electron     ${report.electron ?? 'not running inside Electron'}`,
      `ONNX Runtime ${report.onnxruntime}`,
      `Execution providers: ${backends.map((b) => `${b.name}${b.bundled ? '' : ' (add-on not installed)'}`).join(', ')}`,
      `Platform     ${report.platform} (${report.arch})`,
      `CPUs         ${report.cpus.count} x ${report.cpus.model}`,
      `Memory       ${report.memoryGiB} GiB`,
      `Workspace    ${report.workspace.path}${report.workspace.exists ? '' : ' (not created yet)'}`,
    ].join('\n');
    ctx.print(report, human);
  },
};
