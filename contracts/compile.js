#!/usr/bin/env node
// Compiles contracts/src/*.sol with the pinned solc (package.json) and writes contracts/artifacts/:
//   <Contract>.json  { contractName, sourceName, abi, bytecode }
//   manifest.json    { solcVersion, settings, sources: { <file>: sha256 } }
// Usage: node contracts/compile.js          write the artifacts
//        node contracts/compile.js --check  recompile in memory and fail (exit 1) if the artifacts differ
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const solc = require('solc');

const CONTRACTS = ['ZkPowRollup', 'MinerDeposit', 'DevnetVerifier'];
const SETTINGS = {
  optimizer: { enabled: true, runs: 200 },
  evmVersion: 'cancun',
  metadata: { bytecodeHash: 'none' },
  outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object'] } },
};

const root = path.resolve(__dirname, '..');
const srcDir = path.join(__dirname, 'src');
const outDir = path.join(__dirname, 'artifacts');

function pinnedVersion() {
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  return pkg.devDependencies.solc;
}

function readSources() {
  const sources = {};
  for (const file of fs.readdirSync(srcDir).filter((f) => f.endsWith('.sol')).sort()) {
    sources[file] = fs.readFileSync(path.join(srcDir, file), 'utf8');
  }
  return sources;
}

// Line endings are normalised so that a checkout with CRLF hashes the same.
function sha256(text) {
  return crypto.createHash('sha256').update(text.replace(/\r\n/g, '\n'), 'utf8').digest('hex');
}

function compile() {
  const version = solc.version();
  if (!version.startsWith(pinnedVersion() + '+')) {
    throw new Error(`solc ${version} is not the pinned ${pinnedVersion()}; run npm ci`);
  }
  const sources = readSources();
  const input = {
    language: 'Solidity',
    sources: Object.fromEntries(Object.entries(sources).map(([f, content]) => [f, { content }])),
    settings: SETTINGS,
  };
  const output = JSON.parse(solc.compile(JSON.stringify(input)));
  const problems = (output.errors || []).filter((e) => e.severity !== 'info');
  if (problems.length > 0) {
    // Warnings are errors too.
    throw new Error(problems.map((e) => e.formattedMessage).join('\n'));
  }

  const files = {};
  for (const name of CONTRACTS) {
    const sourceName = `${name}.sol`;
    const contract = output.contracts[sourceName] && output.contracts[sourceName][name];
    if (!contract) throw new Error(`no output for ${name}`);
    const artifact = { contractName: name, sourceName, abi: contract.abi, bytecode: '0x' + contract.evm.bytecode.object };
    files[`${name}.json`] = JSON.stringify(artifact, null, 2) + '\n';
  }
  const { outputSelection, ...settings } = SETTINGS;
  const manifest = {
    solcVersion: version,
    settings,
    sources: Object.fromEntries(Object.entries(sources).map(([f, content]) => [f, sha256(content)])),
  };
  files['manifest.json'] = JSON.stringify(manifest, null, 2) + '\n';
  return files;
}

function main() {
  const check = process.argv.includes('--check');
  const files = compile();
  if (check) {
    const stale = [];
    for (const [file, content] of Object.entries(files)) {
      const target = path.join(outDir, file);
      if (!fs.existsSync(target) || fs.readFileSync(target, 'utf8') !== content) stale.push(file);
    }
    const expected = new Set(Object.keys(files));
    for (const file of fs.existsSync(outDir) ? fs.readdirSync(outDir) : []) {
      if (!expected.has(file)) stale.push(file + ' (unexpected)');
    }
    if (stale.length > 0) {
      console.error(`stale contract artifacts: ${stale.join(', ')}; run: node contracts/compile.js`);
      process.exit(1);
    }
    console.log('contract artifacts are up to date');
    return;
  }
  fs.mkdirSync(outDir, { recursive: true });
  for (const [file, content] of Object.entries(files)) fs.writeFileSync(path.join(outDir, file), content);
  console.log(`wrote ${Object.keys(files).length} files to ${path.relative(root, outDir)}`);
}

main();
