import { loadContract } from '../../contract/load.js';
import { fit, saveModel } from '../../pipeline/fit.js';
import { numberOption, stringOption, UsageError, type Command } from '../command.js';

export const fitCommand: Command = {
  name: 'fit',
  summary: 'Fit the detectors on trusted data and save the model bundle',
  usage: 'fit <trusted dataset> --contract FILE --model FILE [--seed N]',
  positionals: [1, 1],
  options: {
    contract: { type: 'string', help: 'the contract the model is for (its sha256 is recorded)' },
    model: { type: 'string', help: 'where to write the model bundle (JSON)' },
    seed: { type: 'string', help: 'seed for sampling and every detector (default 42)' },
    'fit-rows': { type: 'string', help: 'rows sampled to fit on (default 100000)' },
  },
  details: `The bundle holds the isolation forest, the label model, the trigger and drift baselines,
their parameters and seed, and the contract's sha256: scan --model refuses it for another contract.
Same data, contract and seed: the same bundle, byte for byte, but for its creation time.`,
  async run([dataset], values, { stdout }) {
    const contractPath = stringOption(values, 'contract');
    const modelPath = stringOption(values, 'model');
    if (!contractPath) throw new UsageError('--contract is required');
    if (!modelPath) throw new UsageError('--model is required');
    const model = await fit({
      dataset: dataset!,
      contract: await loadContract(contractPath),
      seed: numberOption(values, 'seed'),
      sampleRows: numberOption(values, 'fit-rows'),
    });
    await saveModel(model, modelPath);
    const { labelModel, encoder } = model.bundle;
    const notes = [
      // On trusted rows, what the label-flip rule flags out of fold is the false alarms a scan should expect.
      ...(labelModel?.fitFlagged != null ? [`label flips: ${(100 * labelModel.fitFlagged).toFixed(1)}% of the trusted rows flagged out of fold`] : []),
      ...encoder.dropped.map((d) => `not used: ${d.message}`),
      ...Object.entries(model.bundle.skipped).map(([detector, why]) => `skipped ${detector}: ${why}`),
    ];
    stdout.write(`wrote ${modelPath} (${model.bundle.sampleRows} rows sampled, sha256 ${model.sha256})${notes.map((n) => `\n  ${n}`).join('')}\n`);
    return 0;
  },
};
