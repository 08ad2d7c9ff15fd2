// Creates or updates, in place, the one pull-request comment that carries an environment's plan.
// Called from actions/github-script: require("./scripts/ci/upsert-comment.js")({ github, context, body }).
"use strict";

/** The marker line `render` puts first in a body. */
function markerOf(body) {
  const first = body.split("\n", 1)[0];
  if (!first.startsWith("<!-- terraform-plan:")) throw new Error("comment body must start with its terraform-plan marker");
  return first;
}

module.exports = async function upsertComment({ github, context, body }) {
  const marker = markerOf(body);
  const { owner, repo } = context.repo;
  const issue_number = context.issue.number;
  const comments = await github.paginate(github.rest.issues.listComments, { owner, repo, issue_number, per_page: 100 });
  const mine = comments.find((c) => c.user && c.user.type === "Bot" && typeof c.body === "string" && c.body.startsWith(marker));
  if (mine) {
    await github.rest.issues.updateComment({ owner, repo, comment_id: mine.id, body });
    return { action: "updated", id: mine.id };
  }
  const created = await github.rest.issues.createComment({ owner, repo, issue_number, body });
  return { action: "created", id: created.data.id };
};
module.exports.markerOf = markerOf;
