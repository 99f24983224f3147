export { createDemoModel, type DemoModelOptions } from "./demo-model.js";
export {
  type DemoDocument,
  generateDemoCorpus,
  generateHaystack,
  generateOrders,
  seededRandom,
} from "./demo-corpus.js";
