'use strict';

// `npm run remove [-- --stage <stage>] [--region <region>]`: removes every service of
// serverless-compose.yml with `osls remove`, dependents first (researcher, search, ingest,
// then infrastructure), and goes on to the next service when one fails.
//
// Not `osls-compose remove`, which stops at the first service that fails, skips the rest
// (the infrastructure, whose OpenSearch collection bills by the hour, comes last) and then
// deletes its state file anyway; no later remove can resolve the outputs the services
// reference. Here each service gets placeholders for the params compose would pass:
// `osls remove` finds the stack by its name and never builds a template, so removing needs
// neither the state file nor a deployed infrastructure. The state file loses a service only
// once it is removed, and goes only when every service is.
//
// Other options (`--region`, `--aws-profile`, `--verbose`) are passed on to each `osls remove`.

const fs = require('fs');
const path = require('path');
const { spawn } = require('child_process');
const yaml = require('js-yaml');

const ROOT = path.resolve(__dirname, '..');
const OSLS = require.resolve('osls/bin/serverless.js', { paths: [ROOT] });
const PLACEHOLDER = 'unused-by-remove';

function parseArgs(argv) {
  let stage = 'dev';
  const passOn = [];
  for (let i = 0; i < argv.length; i += 1) {
    if (argv[i] === '--stage' || argv[i] === '-s') {
      i += 1;
      stage = argv[i];
    } else if (argv[i].startsWith('--stage=')) {
      stage = argv[i].slice('--stage='.length);
    } else {
      passOn.push(argv[i]);
    }
  }
  if (!stage || !/^[a-zA-Z0-9-]+$/.test(stage)) {
    throw new Error(`--stage needs a name of letters, digits and dashes, not "${stage}"`);
  }
  return { stage, passOn };
}

// Deploy order as compose works it out (a service after its dependsOn and after every
// service whose outputs its params reference), reversed.
function removalOrder(services) {
  const names = Object.keys(services);
  const needs = {};
  for (const name of names) {
    const { dependsOn = [], params = {} } = services[name];
    const referenced = [...JSON.stringify(params).matchAll(/\$\{(\w[\w-]*)\.[\w.-]+\}/g)];
    needs[name] = new Set([...[].concat(dependsOn), ...referenced.map((match) => match[1])]);
  }
  const order = [];
  while (order.length < names.length) {
    const ready = names.filter(
      (name) => !order.includes(name) && [...needs[name]].every((need) => order.includes(need))
    );
    if (ready.length === 0) throw new Error('serverless-compose.yml: the services depend in a cycle');
    order.push(...ready);
  }
  return order.reverse();
}

function removeArgs(service, stage, passOn) {
  const args = [OSLS, 'remove', '--stage', stage];
  for (const [key, value] of Object.entries(service.params || {})) {
    const literal = typeof value === 'string' && !value.includes('${');
    args.push('--param', `${key}=${literal ? value : PLACEHOLDER}`);
  }
  return [...args, ...passOn];
}

function stackName(folder, stage) {
  const config = fs.readFileSync(path.join(folder, 'serverless.yml'), 'utf-8');
  const service = /^service:\s*(\S+)\s*$/m.exec(config);
  return `${service ? service[1] : path.basename(folder)}-${stage}`;
}

// Runs `osls remove`, its output shown as it comes and kept for the missing-stack check.
function run(args, cwd) {
  return new Promise((resolve) => {
    let output = '';
    const child = spawn(process.execPath, args, {
      cwd,
      env: { ...process.env, SLS_DISABLE_AUTO_UPDATE: '1' },
      stdio: ['inherit', 'pipe', 'pipe'],
    });
    child.stdout.on('data', (data) => {
      output += data;
      process.stdout.write(data);
    });
    child.stderr.on('data', (data) => {
      output += data;
      process.stderr.write(data);
    });
    child.on('error', (error) => resolve({ code: 1, output: `${output}${error.message}` }));
    child.on('close', (code) => resolve({ code, output }));
  });
}

function escapeRegExp(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function forget(stateFile, name) {
  if (!fs.existsSync(stateFile)) return;
  const state = JSON.parse(fs.readFileSync(stateFile, 'utf-8'));
  if (state.components && name in state.components) {
    delete state.components[name];
    fs.writeFileSync(stateFile, JSON.stringify(state, null, 2));
  }
}

async function main() {
  const { stage, passOn } = parseArgs(process.argv.slice(2));
  const compose = yaml.load(fs.readFileSync(path.join(ROOT, 'serverless-compose.yml'), 'utf-8'));
  const services = compose.services;
  const stateFile = path.join(ROOT, '.serverless', `state.${stage}.json`);
  const outcomes = [];
  for (const name of removalOrder(services)) {
    const folder = path.resolve(ROOT, services[name].path);
    const stack = stackName(folder, stage);
    console.log(`\n=== ${name}: osls remove (stack ${stack}) ===`);
    const { code, output } = await run(removeArgs(services[name], stage, passOn), folder);
    // Never deployed (guide 3 leaves the researcher so) or already gone: nothing to remove.
    const missing = new RegExp(`Stack (with id )?'?${escapeRegExp(stack)}'? does not exist`);
    if (code === 0 || missing.test(output)) {
      forget(stateFile, name);
      outcomes.push([name, code === 0 ? 'removed' : 'not deployed (nothing to remove)']);
    } else {
      outcomes.push([name, `FAILED (exit ${code})`]);
    }
  }
  console.log(`\nRemoving stage ${stage}:`);
  for (const [name, outcome] of outcomes) console.log(`  ${name}: ${outcome}`);
  if (outcomes.some(([, outcome]) => outcome.startsWith('FAILED'))) {
    console.log(
      `\nSome services were not removed; ${path.relative(ROOT, stateFile)} is kept. Run ` +
        '`npm run remove` again, or delete their stacks by hand (guides/3_knowledge_base.md, ' +
        'step 7): the OpenSearch collection bills until alex-infrastructure is gone.'
    );
    process.exitCode = 1;
  } else {
    fs.rmSync(stateFile, { force: true });
  }
}

main().catch((error) => {
  console.error(`npm run remove: ${error.message}`);
  process.exitCode = 1;
});
