export {
  type DemoDocument,
  generateDemoCorpus,
  generateHaystack,
  generateOrders,
  seededRandom,
} from "./demo-corpus.js";
export { createDemoModel, type DemoModelOptions } from "./demo-model.js";
