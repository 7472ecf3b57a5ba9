'use strict';

// Serverless plugin (osls 4 and Serverless Framework v4): before a service is packaged,
// deployed or invoked locally, run services/common/build_lambda.py for it. That copies Alex's code
// and the shared Lambda door into the service folder and writes requirements.txt pinned from
// uv.lock; this plugin then points serverless-python-requirements at an interpreter with pip.
// List it BEFORE serverless-python-requirements in `plugins:` so it runs first.
//
// Configuration, in the service's serverless.yml:
//   custom:
//     alexBuild:
//       requirements: [pydantic-settings, ...]   # top-level packages from pyproject.toml
//       ship: [portfolio]                         # optional parts of Alex (build_lambda.py)

const path = require('path');
const { spawnSync } = require('child_process');

const BUILD_SCRIPT = path.join(__dirname, 'build_lambda.py');
const PROJECT_ROOT = path.resolve(__dirname, '..', '..');

class AlexBuildPlugin {
  constructor(serverless, cliOptions, utils) {
    this.serverless = serverless;
    this.log = (utils && utils.log) || console;
    this.built = false;
    const build = () => this.build();
    this.hooks = {
      'before:package:createDeploymentArtifacts': build,
      'before:deploy:function:packageFunction': build,
      'before:invoke:local:invoke': build,
      initialize: () => this.keepRemoveOffTheSharedApi(),
    };
  }

  // `osls remove` first detaches the usage plans from the REST API it expects in this stack
  // (serverless/serverless#7922). The API is the infrastructure's (provider.apiGateway.
  // restApiId), so the lookup fails and so would the remove. The key and the usage plan are
  // in this stack and go with it: nothing needs detaching.
  keepRemoveOffTheSharedApi() {
    const { processedInput } = this.serverless;
    const apiGateway = this.serverless.service.provider.apiGateway;
    if (processedInput && processedInput.commands.join(' ') === 'remove' && apiGateway) {
      if (apiGateway.restApiId) delete apiGateway.apiKeys;
    }
  }

  build() {
    if (this.built) return;
    const service = this.serverless.service;
    const servicePath = this.serverless.serviceDir || this.serverless.config.servicePath;
    const config = (service.custom && service.custom.alexBuild) || {};
    const requirements = config.requirements || [];
    const args = ['run', '--frozen', 'python', BUILD_SCRIPT, servicePath];
    for (const name of requirements) args.push('--requirement', String(name));
    for (const part of config.ship || []) args.push('--ship', String(part));

    // `uv run` exports UV (the uv binary running it); else `uv` from PATH (uv.exe on Windows).
    // No shell, so no quoting differences between bash, PowerShell and cmd.
    const result = spawnSync(process.env.UV || 'uv', args, {
      cwd: PROJECT_ROOT,
      encoding: 'utf-8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    if (result.error) {
      throw new this.serverless.classes.Error(
        `Could not run uv (${result.error.message}). Install uv: https://docs.astral.sh/uv/`
      );
    }
    if (result.status !== 0) {
      throw new this.serverless.classes.Error(
        `services/common/build_lambda.py failed for ${servicePath} (exit code ${result.status})`
      );
    }
    const match = /^ALEX_PIP_PYTHON=(.+)$/m.exec(result.stdout || '');
    service.custom = service.custom || {};
    const pythonRequirements = (service.custom.pythonRequirements =
      service.custom.pythonRequirements || {});
    if (match && !pythonRequirements.pythonBin) {
      pythonRequirements.pythonBin = match[1].trim();
    }
    this.built = true;
  }
}

module.exports = AlexBuildPlugin;
