// A real OpenID Connect provider for the single sign-on tests (npm's oidc-provider, a certified
// implementation), on loopback. Usage: node oidc_provider.mjs PORT CLIENT_ID CLIENT_SECRET REDIRECT_URI
// People come from the OIDC_ACCOUNTS environment variable: {"login": {"email": …, "groups": […]}}.
// Its development sign-in pages take any password for a login listed there.
import Provider from 'oidc-provider';

const [port, clientId, clientSecret, redirectUri] = process.argv.slice(2);
const accounts = JSON.parse(process.env.OIDC_ACCOUNTS || '{}');

const provider = new Provider(`http://127.0.0.1:${port}`, {
  clients: [{
    client_id: clientId,
    client_secret: clientSecret,
    redirect_uris: [redirectUri],
    grant_types: ['authorization_code'],
    response_types: ['code'],
  }],
  pkce: { required: () => true },
  scopes: ['openid', 'email', 'profile', 'groups'],
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'], groups: ['groups'] },
  conformIdTokenClaims: false, // the claims in the ID token itself, as Okta and Entra ID put groups
  features: { devInteractions: { enabled: true } },
  findAccount: async (ctx, id) => (accounts[id]
    ? { accountId: id, claims: async () => ({ sub: id, ...accounts[id] }) }
    : undefined),
});
provider.listen(Number(port), '127.0.0.1', () => console.log('ready'));
