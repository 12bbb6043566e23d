/**
 * The `.aegis.yaml` that `aegis init` writes: the main keys, each with a
 * comment, and services at the addresses `aegis demo-services` listens on,
 * so that the file runs as it is. `.aegis.yaml.example` documents every key.
 */
export const STARTER_CONFIG = `# Aegis configuration, written by \`aegis init\`.
#
# Aegis reads this file from the current directory or the nearest parent
# (\`--config FILE\` or $AEGIS_CONFIG name another). After every edit:
#   aegis config validate
# To try it as it is, start the simulated QA agent and bug tracker, then run:
#   aegis demo-services             # in another terminal: :8080 and :8090
#   aegis run full_pipeline         # or \`aegis serve\`: the dashboard on :8000
# Every key, with its default: .aegis.yaml.example (in the Aegis package).
#
# \${VAR} is the value of the environment variable VAR (an error naming VAR
# when it is unset); \${VAR:-default} gives \`default\` when VAR is unset or empty.

# The key that every POST to Aegis's own API must send as X-API-Key.
# Empty (AEGIS_API_KEY unset) turns authentication off; reads stay open.
auth:
  api_key: \${AEGIS_API_KEY:-}

# The run history: a libSQL file, relative to this file (AEGIS_DB_PATH names
# another file, AEGIS_DB_URL a libSQL server). Keep aegis_history.db* out of git.
history_db_path: aegis_history.db

# The HTTP services the workflows call; a step names one by its key.
# A service is healthy when GET url + health_endpoint answers 2xx within 5 s.
services:
  qaagent:
    name: QA Agent
    # GET /api/routes (discover), POST /api/runs (test, verify)
    url: \${QAAGENT_URL:-http://localhost:8080}
    health_endpoint: /health
    # The variable whose value Aegis sends as X-API-Key (no header while it is unset):
    # api_key_env: QAAGENT_API_KEY
  bugalizer:
    name: Bug tracker
    # POST /api/v1/reports (submit_bugs)
    url: \${BUGALIZER_URL:-http://localhost:8090}
    health_endpoint: /health
    # api_key_env: BUGALIZER_API_KEY

# Named workflows: \`aegis run full_pipeline\`, or POST /api/workflows/full_pipeline/run.
# A step whose condition is false is skipped; a failed step does not stop the run.
workflows:
  full_pipeline:
    name: Full QA Pipeline
    steps:
      - type: discover             # GET /api/routes: the application's routes
        service: qaagent
        retries: 2                 # extra attempts after a failure, 1 s then 2 s apart
      - type: test                 # POST /api/runs {}: runs the tests, reports failures
        service: qaagent
        timeout: 300               # seconds per attempt (default 30), then the request is aborted
      - type: submit_bugs          # POST /api/v1/reports {"failures": [...]}
        service: bugalizer
        condition: has_failures    # an earlier step failed or reported failures
      - type: verify               # POST /api/runs {"verify_only": true}
        service: qaagent
        condition: has_failures
        timeout: 300
      - type: report               # no call: a summary of the steps before it
        service: qaagent
        condition: always

# Signed webhooks: every matching event is POSTed to the URL, and retried until
# it answers 2xx. Remove the leading "# " of these lines to turn it on.
# webhooks:
#   - url: \${AEGIS_WEBHOOK_URL}
#     events: ["workflow.completed", "failure.detected"]   # or ["*"]
#     secret: \${AEGIS_WEBHOOK_SECRET:-}                    # HMAC-SHA256 key; empty: unsigned
`;
