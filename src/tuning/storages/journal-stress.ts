/**
 * A journal writer for the multi-process test (journal-file.test.ts compiles and spawns it four times
 * at once): `node journal-stress.js <journal> <study> <trials> <tag>` creates `<trials>` trials, each with
 * a parameter, an intermediate value, an attribute naming its writer and a value, then prints the
 * numbers it got as JSON.
 */
import { floatDistribution } from "../distributions.js";
import { JournalStorage } from "./journal.js";
import { JournalFileBackend } from "./journal-file.js";

async function main(argv: readonly string[]): Promise<void> {
  const [path, studyName, count, tag] = argv;
  if (path === undefined || studyName === undefined || count === undefined || tag === undefined) {
    throw new Error("usage: journal-stress <journal> <study> <trials> <tag>");
  }
  const storage = new JournalStorage(await JournalFileBackend.open(path));
  const studyId = await storage.getStudyIdFromName(studyName);
  const numbers: number[] = [];
  for (let i = 0; i < Number(count); i++) {
    const { trialId, number } = await storage.createTrial(studyId);
    await storage.setTrialParam(trialId, "x", i / 100, floatDistribution(0, 1));
    await storage.setTrialIntermediateValue(trialId, 0, i);
    await storage.setTrialUserAttr(trialId, "writer", `${tag}:${i}`);
    await storage.setTrialStateValues(trialId, "COMPLETE", [i]);
    numbers.push(number);
  }
  await storage.close();
  process.stdout.write(`${JSON.stringify(numbers)}\n`);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`);
  process.exitCode = 1;
});
