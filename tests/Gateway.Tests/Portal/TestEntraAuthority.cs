using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Gateway.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Gateway.Tests.Portal;

/// <summary>
/// A faithful local stand-in for Entra ID's v2.0 endpoints of one tenant, on loopback over HTTPS (a self-signed
/// certificate made per run; MSAL.js accepts only https authorities): OpenID metadata, a JWKS with an RSA key, an
/// authorize endpoint that signs in <see cref="NextUser"/> and redirects back with a code, a token endpoint that
/// redeems the code only with the PKCE verifier of its challenge and issues RS256 tokens, and a logout endpoint that
/// redirects back. Every browser-facing answer allows any origin (CORS), as Entra's do.
/// </summary>
public sealed class TestEntraAuthority : IAsyncDisposable
{
    public const string Tenant = "11111111-2222-3333-4444-555555555555";
    public const string ClientId = "portal-client-id";
    public const string Audience = "api://gateway-admin";
    public const string Scope = Audience + "/access_as_user";

    private readonly WebApplication _app;
    private readonly RSA _rsa = RSA.Create(2048);
    private readonly string _keyId = Guid.NewGuid().ToString("N");
    private readonly ConcurrentDictionary<string, Grant> _codes = new();

    private TestEntraAuthority(WebApplication app, X509Certificate2 certificate)
    {
        _app = app;
        Certificate = certificate;
    }

    /// <summary>Who the authorize endpoint signs in next (the test's stand-in for a person at Microsoft's sign-in page).</summary>
    public Person? NextUser { get; set; }

    public X509Certificate2 Certificate { get; }

    /// <summary><c>https://127.0.0.1:PORT</c>.</summary>
    public string Origin { get; private set; } = "";

    /// <summary>The v2.0 authority (and issuer), as <c>Gateway:SignIn:Entra:Authority</c> takes it.</summary>
    public string Authority => $"{Origin}/{Tenant}/v2.0";

    /// <summary>Access tokens issued, in order.</summary>
    public ConcurrentQueue<string> AccessTokens { get; } = new();

    /// <summary>Token requests refused, with the reason (a wrong PKCE verifier, an unknown code, ...).</summary>
    public ConcurrentQueue<string> Refusals { get; } = new();

    /// <summary>Sign-outs received (their post-logout redirect URIs).</summary>
    public ConcurrentQueue<string> SignOuts { get; } = new();

    /// <summary>A person in the tenant: the app role and customer the access token carries, and its audience.</summary>
    public sealed record Person(string ObjectId, string Name, string Role, string? CustomerId = null, string AccessTokenAudience = Audience);

    private sealed record Grant(Person Person, string Challenge, string RedirectUri, string? Nonce, string Scope);

    public static async Task<TestEntraAuthority> StartAsync()
    {
        var certificate = SelfSignedLoopbackCertificate();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, l => l.UseHttps(certificate)));
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var authority = new TestEntraAuthority(app, certificate);
        app.Use(async (context, next) =>
        {
            context.Response.Headers.AccessControlAllowOrigin = "*";
            if (HttpMethods.IsOptions(context.Request.Method))
            {
                context.Response.Headers.AccessControlAllowMethods = "GET, POST";
                context.Response.Headers.AccessControlAllowHeaders = context.Request.Headers.AccessControlRequestHeaders.ToString();
                context.Response.StatusCode = 204;
                return;
            }

            await next(context);
        });
        app.MapGet($"/{Tenant}/v2.0/.well-known/openid-configuration", () => Results.Json(authority.Metadata()));
        app.MapGet($"/{Tenant}/discovery/v2.0/keys", () => Results.Json(authority.Keys()));
        app.MapGet($"/{Tenant}/oauth2/v2.0/authorize", authority.Authorize);
        app.MapPost($"/{Tenant}/oauth2/v2.0/token", authority.RedeemAsync);
        app.MapGet($"/{Tenant}/oauth2/v2.0/logout", (HttpRequest request) =>
        {
            var back = request.Query["post_logout_redirect_uri"].ToString();
            authority.SignOuts.Enqueue(back);
            return string.IsNullOrEmpty(back) ? Results.Text("Signed out.") : Results.Redirect(back);
        });
        await app.StartAsync();
        var address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single());
        authority.Origin = $"https://127.0.0.1:{address.Port}";
        return authority;
    }

    /// <summary>An HTTP handler that trusts this authority's certificate (for the gateway's metadata and key fetches).</summary>
    public HttpMessageHandler TrustingHandler() => new HttpClientHandler
    {
        ServerCertificateCustomValidationCallback = (_, presented, _, _) => presented is not null && presented.Thumbprint == Certificate.Thumbprint,
    };

    private Dictionary<string, object> Metadata() => new()
    {
        ["issuer"] = Authority,
        ["authorization_endpoint"] = $"{Origin}/{Tenant}/oauth2/v2.0/authorize",
        ["token_endpoint"] = $"{Origin}/{Tenant}/oauth2/v2.0/token",
        ["end_session_endpoint"] = $"{Origin}/{Tenant}/oauth2/v2.0/logout",
        ["jwks_uri"] = $"{Origin}/{Tenant}/discovery/v2.0/keys",
        ["response_modes_supported"] = new[] { "query", "fragment", "form_post" },
        ["response_types_supported"] = new[] { "code" },
        ["subject_types_supported"] = new[] { "pairwise" },
        ["id_token_signing_alg_values_supported"] = new[] { "RS256" },
        ["code_challenge_methods_supported"] = new[] { "S256" },
        ["scopes_supported"] = new[] { "openid", "profile", "email", "offline_access" },
        ["tenant_region_scope"] = "EU",
    };

    private object Keys()
    {
        var key = _rsa.ExportParameters(includePrivateParameters: false);
        return new { keys = new[] { new { kty = "RSA", use = "sig", alg = "RS256", kid = _keyId, n = Base64UrlEncoder.Encode(key.Modulus), e = Base64UrlEncoder.Encode(key.Exponent) } } };
    }

    private IResult Authorize(HttpRequest request)
    {
        var q = request.Query;
        var redirectUri = q["redirect_uri"].ToString();
        if (q["client_id"] != ClientId || q["response_type"] != "code" || q["code_challenge_method"] != "S256" || string.IsNullOrEmpty(q["code_challenge"]) || string.IsNullOrEmpty(redirectUri))
        {
            Refusals.Enqueue($"authorize: {request.QueryString}");
            return Results.BadRequest("invalid_request");
        }

        if (NextUser is not { } person)
        {
            return Results.Text("Nobody signs in here.", statusCode: 401);
        }

        var code = Convert.ToHexString(RandomNumberGenerator.GetBytes(24));
        _codes[code] = new Grant(person, q["code_challenge"]!, redirectUri, q["nonce"], q["scope"].ToString());
        var answer = $"code={code}&state={Uri.EscapeDataString(q["state"].ToString())}&client_info={ClientInfo(person)}&session_state={Guid.NewGuid()}";
        return Results.Redirect(redirectUri + (q["response_mode"] == "query" ? "?" : "#") + answer);
    }

    private async Task<IResult> RedeemAsync(HttpRequest request)
    {
        var form = await request.ReadFormAsync();
        if (form["grant_type"] != "authorization_code" || form["client_id"] != ClientId)
        {
            Refusals.Enqueue($"token: grant type '{form["grant_type"]}', client '{form["client_id"]}'");
            return Results.Json(new { error = "unsupported_grant_type" }, statusCode: 400);
        }

        if (!_codes.TryRemove(form["code"].ToString(), out var grant))
        {
            Refusals.Enqueue("token: unknown or used code");
            return Results.Json(new { error = "invalid_grant", error_description = "The code is unknown or was redeemed." }, statusCode: 400);
        }

        var verifier = form["code_verifier"].ToString();
        if (Base64UrlEncoder.Encode(SHA256.HashData(Encoding.ASCII.GetBytes(verifier))) != grant.Challenge)
        {
            Refusals.Enqueue("token: the PKCE verifier does not match the challenge");
            return Results.Json(new { error = "invalid_grant", error_description = "PKCE verification failed." }, statusCode: 400);
        }

        if (form["redirect_uri"] != grant.RedirectUri)
        {
            Refusals.Enqueue("token: redirect_uri differs from the authorize request's");
            return Results.Json(new { error = "invalid_grant" }, statusCode: 400);
        }

        var person = grant.Person;
        var access = Sign(person.AccessTokenAudience, new Dictionary<string, object>
        {
            ["sub"] = person.ObjectId, ["oid"] = person.ObjectId, ["tid"] = Tenant, ["azp"] = ClientId, ["scp"] = "access_as_user",
            ["name"] = person.Name, ["roles"] = new[] { person.Role },
        }.Concat(person.CustomerId is null ? [] : [new KeyValuePair<string, object>("customer_id", person.CustomerId)]).ToDictionary());
        var idClaims = new Dictionary<string, object>
        {
            ["sub"] = person.ObjectId, ["oid"] = person.ObjectId, ["tid"] = Tenant, ["name"] = person.Name,
            ["preferred_username"] = $"{person.ObjectId}@example.test", ["ver"] = "2.0",
        };
        if (!string.IsNullOrEmpty(grant.Nonce))
        {
            idClaims["nonce"] = grant.Nonce;
        }

        AccessTokens.Enqueue(access);
        return Results.Json(new Dictionary<string, object>
        {
            ["token_type"] = "Bearer",
            ["scope"] = string.Join(' ', grant.Scope.Split(' ').Where(s => s.StartsWith(Audience, StringComparison.Ordinal)).DefaultIfEmpty(Scope)),
            ["expires_in"] = 3600,
            ["ext_expires_in"] = 3600,
            ["access_token"] = access,
            ["id_token"] = Sign(ClientId, idClaims),
            ["client_info"] = ClientInfo(person),
        });
    }

    /// <summary>
    /// An RS256 JWT from this tenant. Valid from an hour before the earlier to an hour after the later of the real clock
    /// (the browser's) and the tests' clock (the gateway's, <see cref="TestClock"/>).
    /// </summary>
    private string Sign(string audience, Dictionary<string, object> claims)
    {
        var real = DateTime.UtcNow;
        var test = TestClock.Instance.GetUtcNow().UtcDateTime;
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = Authority,
            Audience = audience,
            Claims = claims,
            IssuedAt = real < test ? real : test,
            NotBefore = (real < test ? real : test).AddHours(-1),
            Expires = (real > test ? real : test).AddHours(1),
            SigningCredentials = new SigningCredentials(new RsaSecurityKey(_rsa) { KeyId = _keyId }, SecurityAlgorithms.RsaSha256),
        });
    }

    private static string ClientInfo(Person person) =>
        Base64UrlEncoder.Encode(JsonSerializer.Serialize(new { uid = person.ObjectId, utid = Tenant }));

    private static X509Certificate2 SelfSignedLoopbackCertificate()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], critical: false));
        using var created = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(7));
        return X509CertificateLoader.LoadPkcs12(created.Export(X509ContentType.Pfx), null);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.DisposeAsync();
        Certificate.Dispose();
        _rsa.Dispose();
    }
}
