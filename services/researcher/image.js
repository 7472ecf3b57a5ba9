'use strict';

// The researcher's container image, for serverless.yml (`${file(./image.js):uri}`).
//
// In order: the environment variable ALEX_RESEARCHER_IMAGE_URI, else the file
// image-<region>.json that build_image.py writes after pushing the image. Either must be an
// ECR image *by digest* in the region being deployed to:
//   <account>.dkr.ecr.<region>.amazonaws.com/<repository>@sha256:<64 hex digits>
// A digest lets osls package offline (with a tag it asks ECR for the digest) and pins
// exactly the image that was built. Anything else fails here, with what to do.
//
// Only the commands that build a template need the image. `remove`, `info`, `logs` and
// `metrics` work on the deployed stack by its name, so with no image set they get a
// placeholder: a stage deployed without the researcher (guide 3) must still come down.

const fs = require('fs');
const path = require('path');

const WITHOUT_IMAGE = new Set(['remove', 'info', 'logs', 'metrics']);
const DIGEST_URI =
  /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?\/([a-z0-9][a-z0-9._/-]*)@sha256:[0-9a-f]{64}$/;

// The osls command, parsed as osls does: the words before the first option.
function command(argv) {
  const words = argv.slice(2);
  const firstOption = words.findIndex((word) => word.startsWith('-'));
  return words.slice(0, firstOption === -1 ? words.length : firstOption).join(' ');
}

function fromFile(file) {
  if (!fs.existsSync(file)) return '';
  const data = JSON.parse(fs.readFileSync(file, 'utf-8'));
  return String((data && data.uri) || '').trim();
}

module.exports = async ({ resolveVariable }) => {
  const region = await resolveVariable('self:provider.region');
  const file = path.join(__dirname, `image-${region}.json`);
  let uri = String(process.env.ALEX_RESEARCHER_IMAGE_URI || '').trim();
  let source = 'ALEX_RESEARCHER_IMAGE_URI';
  if (!uri) {
    uri = fromFile(file);
    source = file;
  }
  const how =
    `Build and push it first (needs Docker): uv run python services/researcher/build_image.py ` +
    `--region ${region}, or set ALEX_RESEARCHER_IMAGE_URI. See docs/researcher-cloud.md.`;
  if (!uri && WITHOUT_IMAGE.has(command(process.argv))) {
    // Valid in form (so nothing downstream trips on it), never deployable: account 0.
    return { uri: `000000000000.dkr.ecr.${region}.amazonaws.com/no-image-set@sha256:${'0'.repeat(64)}` };
  }
  if (!uri) {
    throw new Error(`No researcher image for region ${region}. ${how}`);
  }
  const match = DIGEST_URI.exec(uri);
  if (!match) {
    throw new Error(
      `${source}: "${uri}" is not an ECR image by digest ` +
        `(<account>.dkr.ecr.${region}.amazonaws.com/<repository>@sha256:<digest>). ${how}`
    );
  }
  if (match[2] !== region) {
    throw new Error(
      `${source}: the image is in ${match[2]}, but this deployment is in ${region} ` +
        `(Lambda needs an image in its own region). ${how}`
    );
  }
  return { uri };
};
