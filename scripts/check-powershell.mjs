// Parses PowerShell files with tree-sitter-powershell and fails on any ERROR or MISSING node,
// naming the file, line and column. PowerShell itself is not needed.
//
//   node scripts/check-powershell.mjs FILE.ps1...
//
// Dependencies: `npm install --prefix scripts --ignore-scripts --no-package-lock` (only the
// grammar's .wasm is used, so its native addon is not built).

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Language, Parser } from 'web-tree-sitter';

const require = createRequire(import.meta.url);
const files = process.argv.slice(2);
if (files.length === 0) {
  console.error('usage: node scripts/check-powershell.mjs FILE.ps1...');
  process.exit(2);
}

await Parser.init();
const wasm = require.resolve('tree-sitter-powershell/tree-sitter-powershell.wasm');
const parser = new Parser();
parser.setLanguage(await Language.load(wasm));

// Every ERROR or MISSING node, outermost first; a broken subtree is reported once.
function problems(node, found = []) {
  if (node.isError || node.isMissing) {
    found.push(node);
    return found;
  }
  if (node.hasError) {
    for (const child of node.children) problems(child, found);
  }
  return found;
}

let failed = 0;
for (const file of files) {
  const tree = parser.parse(readFileSync(file, 'utf8'));
  const found = problems(tree.rootNode);
  for (const node of found) {
    const { row, column } = node.startPosition;
    const what = node.isMissing ? `missing ${node.type}` : 'syntax error';
    const text = node.text.split('\n')[0].slice(0, 60);
    console.error(`${file}:${row + 1}:${column + 1}: ${what} near ${JSON.stringify(text)}`);
  }
  if (found.length > 0) failed += 1;
  else console.log(`${file}: parses`);
}
process.exit(failed > 0 ? 1 : 0);
