// The setup page's HTML: plain forms, no script, every value escaped.

import type { SetupSettings } from './setup-page';
import type { CreatedApp } from '../core/setup';

export interface Page {
  readonly status: number;
  readonly html: string;
  readonly setCookie?: string;
}

const escape = (value: string) => value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function layout(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(title)} · cdk-ephemeral-runners</title>
<style>
body { font: 16px/1.5 system-ui, sans-serif; max-width: 42rem; margin: 3rem auto; padding: 0 1rem; color: #1f2328; }
label { display: block; margin: 1rem 0 .25rem; font-weight: 600; }
input[type=text] { width: 100%; padding: .5rem; font: inherit; box-sizing: border-box; }
button { margin-top: 1.5rem; padding: .6rem 1.2rem; font: inherit; background: #1f883d; color: #fff; border: 0; border-radius: 6px; cursor: pointer; }
.problem { background: #fff1f0; border-left: 4px solid #cf222e; padding: .75rem 1rem; }
code, pre { background: #f6f8fa; padding: .1rem .3rem; border-radius: 4px; }
pre { padding: .75rem; overflow-x: auto; }
</style></head>
<body><h1>${escape(title)}</h1>
${body}
</body></html>
`;
}

/** The pages, for one deployment's settings. */
export function pages(settings: SetupSettings) {
  const host = escape(new URL(settings.githubUrl).host);
  const status = `npx cdk-ephemeral-runners status --stack ${escape(settings.stackName)}`;
  return {
    form(token: string, problem?: string): Page {
      return {
        status: problem ? 400 : 200,
        html: layout('Create the GitHub App', `
${problem ? `<p class="problem" role="alert">${escape(problem)}</p>` : ''}
<p>This creates the GitHub App the runners work for on <strong>${host}</strong>, with the webhook, permissions and events
this deployment needs, and stores its credentials in this deployment's SSM parameters. Nobody copies a key.</p>
<form method="post" action="${escape(settings.setupUrl)}">
<input type="hidden" name="token" value="${escape(token)}">
<label for="owner">Organization (or user) that owns the App</label>
<input type="text" id="owner" name="owner" required maxlength="39" autocomplete="off" placeholder="octo-org">
<p><label style="display:inline;font-weight:normal"><input type="radio" name="ownerType" value="organization" checked> an organization</label>
&nbsp; <label style="display:inline;font-weight:normal"><input type="radio" name="ownerType" value="user"> my user account</label></p>
<label for="name">App name</label>
<input type="text" id="name" name="name" required maxlength="34" value="${escape(`runners-${settings.stackName}`.slice(0, 34))}">
<button type="submit">Continue</button>
</form>`),
      };
    },

    confirm(action: string, manifest: Record<string, unknown>, owner: string, isOrganization: boolean): Page {
      const permissions = Object.entries(manifest.default_permissions as Record<string, string>)
        .map(([name, access]) => `<li><code>${escape(name)}</code>: ${escape(access)}</li>`).join('');
      return {
        status: 200,
        html: layout('Create the GitHub App', `
<p>${host} will show the App <strong>${escape(String(manifest.name))}</strong>
${isOrganization ? `of the organization <strong>${escape(owner)}</strong>` : 'of your user account'} for you to create. It gets:</p>
<ul>${permissions}<li>the <code>workflow_job</code> event, sent to <code>${escape(settings.webhookUrl)}</code></li></ul>
<p>Sign in on ${host} as ${isOrganization ? 'an owner of the organization' : 'that user'} if asked, then choose <em>Create GitHub App</em>.</p>
<form method="post" action="${escape(action)}">
<input type="hidden" name="manifest" value="${escape(JSON.stringify(manifest))}">
<button type="submit">Continue on ${host}</button>
</form>`),
      };
    },

    done(app: CreatedApp): Page {
      const install = `${app.htmlUrl.replace(/\/$/, '')}/installations/new`;
      return {
        status: 200,
        html: layout('The GitHub App is ready', `
<p>GitHub created the App <strong>${escape(app.name)}</strong> (id ${escape(app.appId)}) and its private key and webhook secret
are stored in this deployment's SSM SecureString parameters. This setup link no longer works.</p>
<p><a id="install" href="${escape(install)}">Install the App</a> on the organizations (or repositories) whose jobs the runners should take.</p>
<p>Then check the deployment: <code>${status}</code></p>`),
      };
    },

    credentialsExist(parameterNames: readonly string[]): Page {
      return {
        status: 409,
        html: layout('The GitHub App is set up already', `
<p>This deployment has App credentials (${parameterNames.map((n) => `<code>${escape(n)}</code>`).join(', ')}); setup replaces none.</p>
<p>Check them: <code>${status}</code></p>
<p>To replace the App on purpose, remove them and make a new setup link:
<code>npx cdk-ephemeral-runners reset --stack ${escape(settings.stackName)}</code></p>`),
      };
    },

    error(code: number, title: string, message: string): Page {
      return { status: code, html: layout(title, `<p class="problem" role="alert">${escape(message)}</p>\n<p>Nothing was changed.</p>`) };
    },
  };
}
