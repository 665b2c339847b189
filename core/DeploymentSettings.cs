namespace Gateway.Core;

/// <summary>
/// The environment variables production must set, per host: what <c>infra/</c> sets for the gateway container app
/// and for the function app. Names are configuration keys in environment-variable form (<c>__</c> for <c>:</c>).
/// <c>Gateway.Tests.Infra.ConfigurationDriftTests</c> keeps this list, the options classes and the Bicep in step:
/// add a setting here and in the Bicep together.
/// </summary>
public static class DeploymentSettings
{
    /// <summary>Table service endpoint, reached with managed identity (<see cref="StorageOptions.TableEndpoint"/>).</summary>
    public const string StorageTableEndpoint = "Gateway__Storage__TableEndpoint";

    /// <summary><see cref="StorageOptions.TablePrefix"/>.</summary>
    public const string StorageTablePrefix = "Gateway__Storage__TablePrefix";

    /// <summary>Admin API bearer token; a Key Vault reference, never a plain value (<see cref="AdminOptions.Token"/>).</summary>
    public const string AdminToken = "Gateway__Admin__Token";

    /// <summary>Role-token signing key of the control plane (<c>Gateway:SignIn:SigningKey</c>); a Key Vault reference.</summary>
    public const string SignInSigningKey = "Gateway__SignIn__SigningKey";

    /// <summary>Entra ID authority of admin sign-in (<c>Gateway:SignIn:Entra:Authority</c>); empty leaves Entra off.</summary>
    public const string SignInEntraAuthority = "Gateway__SignIn__Entra__Authority";

    /// <summary>Entra ID audience of admin sign-in (<c>Gateway:SignIn:Entra:Audience</c>).</summary>
    public const string SignInEntraAudience = "Gateway__SignIn__Entra__Audience";

    /// <summary>The claim holding the app roles (<c>Gateway:SignIn:Entra:RoleClaim</c>).</summary>
    public const string SignInEntraRoleClaim = "Gateway__SignIn__Entra__RoleClaim";

    /// <summary>The claim binding a developer to its customer (<c>Gateway:SignIn:Entra:CustomerClaim</c>).</summary>
    public const string SignInEntraCustomerClaim = "Gateway__SignIn__Entra__CustomerClaim";

    /// <summary>Key prefix environment, <c>live</c> in production (<see cref="KeyOptions.Environment"/>).</summary>
    public const string KeysEnvironment = "Gateway__Keys__Environment";

    /// <summary>Gateway only: bind address, <c>any</c> in a container.</summary>
    public const string ListenAddress = "Gateway__Listen__Address";

    /// <summary>Gateway only: data plane port, the ingress target (8080).</summary>
    public const string ListenDataPort = "Gateway__Listen__DataPort";

    /// <summary>Gateway only: admin plane port, internal to the environment (8081).</summary>
    public const string ListenAdminPort = "Gateway__Listen__AdminPort";

    /// <summary>
    /// Optional and deliberately not set in production: each replica then uses its host name. One fixed value for
    /// all replicas would make them overwrite each other's usage rows (<see cref="MeteringOptions.InstanceId"/>).
    /// </summary>
    public const string MeteringInstanceId = "Gateway__Metering__InstanceId";

    /// <summary>
    /// Optional and deliberately not set in production: each replica then subscribes to the key-changes topic under its
    /// host name (creating the subscription at start). One fixed value for all replicas would make them compete for
    /// one subscription's messages, each change reaching one replica only (<see cref="ServiceBusOptions.Subscription"/>).
    /// </summary>
    public const string ServiceBusSubscription = "Gateway__ServiceBus__Subscription";

    /// <summary>Service Bus namespace host name, reached with managed identity.</summary>
    public const string ServiceBusNamespace = "Gateway__ServiceBus__FullyQualifiedNamespace";

    /// <summary>The key-changes topic both hosts use: the control plane publishes to it, each gateway replica subscribes (<see cref="ServiceBusOptions.Topic"/>).</summary>
    public const string ServiceBusTopic = "Gateway__ServiceBus__Topic";

    /// <summary>
    /// Gateway only: how stale a cached key may get while key changes do not arrive (Service Bus unreachable):
    /// <see cref="KeyOptions.CacheRefresh"/>. Set explicitly because it is a stated bound, not a tuning detail.
    /// </summary>
    public const string KeysCacheRefresh = "Gateway__Keys__CacheRefresh";

    /// <summary>Control plane only: Stripe secret key; a Key Vault reference.</summary>
    public const string StripeSecretKey = "Gateway__Stripe__SecretKey";

    /// <summary>Control plane only: Stripe webhook signing secret; a Key Vault reference.</summary>
    public const string StripeWebhookSecret = "Gateway__Stripe__WebhookSecret";

    /// <summary>Gateway only: the API behind the gateway, the destination of the YARP cluster in appsettings.json.</summary>
    public const string UpstreamAddress = "ReverseProxy__Clusters__social__Destinations__upstream__Address";

    /// <summary>Where telemetry goes; read by the Functions host and by Azure Monitor exporters.</summary>
    public const string ApplicationInsightsConnectionString = "APPLICATIONINSIGHTS_CONNECTION_STRING";

    /// <summary>Client id of the host's user-assigned identity, so DefaultAzureCredential uses that identity.</summary>
    public const string AzureClientId = "AZURE_CLIENT_ID";

    /// <summary>What the gateway container app must set.</summary>
    public static IReadOnlyList<string> Gateway { get; } =
    [
        StorageTableEndpoint,
        StorageTablePrefix,
        AdminToken,
        SignInSigningKey,
        SignInEntraAuthority,
        SignInEntraAudience,
        SignInEntraRoleClaim,
        SignInEntraCustomerClaim,
        KeysEnvironment,
        ListenAddress,
        ListenDataPort,
        ListenAdminPort,
        ServiceBusNamespace,
        ServiceBusTopic,
        KeysCacheRefresh,
        UpstreamAddress,
        ApplicationInsightsConnectionString,
        AzureClientId,
    ];

    /// <summary>What the control-plane function app must set (besides the Functions platform's own settings).</summary>
    public static IReadOnlyList<string> Functions { get; } =
    [
        StorageTableEndpoint,
        StorageTablePrefix,
        AdminToken,
        SignInSigningKey,
        SignInEntraAuthority,
        SignInEntraAudience,
        SignInEntraRoleClaim,
        SignInEntraCustomerClaim,
        KeysEnvironment,
        ServiceBusNamespace,
        ServiceBusTopic,
        StripeSecretKey,
        StripeWebhookSecret,
        ApplicationInsightsConnectionString,
        AzureClientId,
    ];

    /// <summary>Settings whose values are secrets: they come from Key Vault, never as plain values.</summary>
    public static IReadOnlyList<string> Secrets { get; } = [AdminToken, SignInSigningKey, StripeSecretKey, StripeWebhookSecret];
}
