#!/usr/bin/env node
// Validate glTF/GLB files with the Khronos glTF validator.
// Usage: node tools/validate-gltf.cjs FILE...
// Prints one JSON object per line: {"file", "numErrors", "numWarnings", "messages"}
// where messages holds the errors and warnings (severity 0 and 1). Exit status 0
// when every file has zero errors, 1 otherwise, 2 for usage.
'use strict';
const fs = require('fs');
const path = require('path');
const validator = require('gltf-validator');

async function validate(file) {
  const bytes = new Uint8Array(fs.readFileSync(file));
  const report = await validator.validateBytes(bytes, {
    uri: path.basename(file),
    maxIssues: 200,
    externalResourceFunction: (uri) => new Promise((resolve, reject) => {
      fs.readFile(path.resolve(path.dirname(file), decodeURIComponent(uri)), (err, data) => {
        if (err) reject(err.toString()); else resolve(new Uint8Array(data));
      });
    }),
  });
  const messages = report.issues.messages
    .filter((m) => m.severity <= 1)
    .map((m) => ({ code: m.code, message: m.message, severity: m.severity, pointer: m.pointer }));
  return { file, numErrors: report.issues.numErrors, numWarnings: report.issues.numWarnings, messages };
}

async function main(files) {
  if (files.length === 0) {
    process.stderr.write('usage: node tools/validate-gltf.cjs FILE...\n');
    process.exit(2);
  }
  let failed = false;
  for (const file of files) {
    try {
      const result = await validate(file);
      failed = failed || result.numErrors > 0;
      process.stdout.write(JSON.stringify(result) + '\n');
    } catch (err) {
      failed = true;
      process.stdout.write(JSON.stringify({ file, numErrors: 1, numWarnings: 0,
        messages: [{ code: 'UNREADABLE', message: String(err), severity: 0 }] }) + '\n');
    }
  }
  process.exit(failed ? 1 : 0);
}

main(process.argv.slice(2));
