using System.Security.Claims;
using Gateway.Billing;
using Gateway.ControlPlane.Audit;
using Gateway.ControlPlane.Billing;
using Gateway.ControlPlane.Contracts;
using Gateway.ControlPlane.Http;
using Gateway.ControlPlane.Security;
using Gateway.Core.Customers;
using Gateway.Core.Problems;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Gateway.ControlPlane.Apis;

/// <summary><c>/admin/v1/customers</c>: who holds keys and is billed.</summary>
public static class CustomersApi
{
    public static RouteGroupBuilder MapCustomersApi(this RouteGroupBuilder api)
    {
        api.MapPost("/customers", CreateCustomer)
            .WithName(nameof(CreateCustomer))
            .WithSummary("Create a customer")
            .RequireAuthorization(ControlPlanePolicies.Admin)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge);
        api.MapGet("/customers", ListCustomers)
            .WithName(nameof(ListCustomers))
            .WithSummary("List customers, optionally those whose name or e-mail contains 'search'; paged by continuation token")
            .RequireAuthorization(ControlPlanePolicies.Review)
            .ProducesProblem(StatusCodes.Status400BadRequest);
        api.MapGet("/customers/{id}", GetCustomer)
            .WithName(nameof(GetCustomer))
            .WithSummary("Get a customer (a developer: its own)")
            .RequireAuthorization(ControlPlanePolicies.AnyRole)
            .ProducesProblem(StatusCodes.Status404NotFound);
        api.MapPatch("/customers/{id}", UpdateCustomer)
            .WithName(nameof(UpdateCustomer))
            .WithSummary("Change a customer's name and/or e-mail")
            .RequireAuthorization(ControlPlanePolicies.Admin)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge);
        api.MapDelete("/customers/{id}", DeleteCustomer)
            .WithName(nameof(DeleteCustomer))
            .WithSummary("Delete a customer that holds no active or suspended key")
            .RequireAuthorization(ControlPlanePolicies.Admin)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
        api.MapGet("/customers/{id}/spend-cap", GetSpendCap)
            .WithName(nameof(GetSpendCap))
            .WithSummary("Get a customer's monthly spend cap (a developer: its own); null: no cap")
            .RequireAuthorization(ControlPlanePolicies.AnyRole)
            .ProducesProblem(StatusCodes.Status404NotFound);
        api.MapPut("/customers/{id}/spend-cap", SetSpendCap)
            .WithName(nameof(SetSpendCap))
            .WithSummary("Set (or with null remove) a customer's monthly spend cap per key (a developer: its own); overage stops at the cap with 429 spend-cap-reached")
            .RequireAuthorization(ControlPlanePolicies.ManageKeys)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge);
        return api;
    }

    public static async Task<Results<Ok<SpendCapSetting>, ProblemHttpResult>> GetSpendCap(string id, ClaimsPrincipal user, SpendCapService caps, CancellationToken cancellationToken)
    {
        var found = ControlPlaneCaller.Of(user).CanSee(id) ? await caps.GetAsync(id, cancellationToken) : ApiProblem.NotFound("Customer", id);
        return found.Succeeded ? TypedResults.Ok(found.Value!) : ProblemResults.From(found.Problem!);
    }

    /// <summary>Stores the cap, then publishes a key change for each of the customer's keys, so the gateways enforce the new ceiling at once.</summary>
    public static async Task<Results<Ok<SpendCapSetting>, ProblemHttpResult>> SetSpendCap(string id, HttpRequest request, SpendCapService caps, AuditLog audit, CancellationToken cancellationToken)
    {
        if (!CustomerIds.IsWellFormed(id) || !ControlPlaneCaller.Of(request.HttpContext.User).CanSee(id))
        {
            return ProblemResults.From(ApiProblem.NotFound("Customer", id));
        }

        var body = await JsonBody.ReadAsync<SetSpendCapRequest>(request, cancellationToken);
        if (!body.Succeeded)
        {
            return ProblemResults.From(body.Problem!);
        }

        var set = await caps.SetAsync(id, body.Value!.MonthlyCap, cancellationToken);
        if (!set.Succeeded)
        {
            return ProblemResults.From(set.Problem!);
        }

        var cap = set.Value!.MonthlyCap is { } value ? $"monthly cap {value.ToString("0.00", System.Globalization.CultureInfo.InvariantCulture)}" : "no monthly cap";
        await audit.RecordAsync(request.HttpContext, AuditActions.SpendCapChanged, id, cap, cancellationToken);
        return TypedResults.Ok(set.Value);
    }

    public static async Task<Results<Created<Customer>, ProblemHttpResult>> CreateCustomer(HttpRequest request, CustomerService customers, AuditLog audit, BillingTables billingTables, StripeCustomerLinks links, BillingEnforcement billing, CancellationToken cancellationToken)
    {
        var body = await JsonBody.ReadAsync<CreateCustomerRequest>(request, cancellationToken);
        if (!body.Succeeded)
        {
            return ProblemResults.From(body.Problem!);
        }

        var stripeCustomerId = body.Value!.StripeCustomerId;
        if (stripeCustomerId is not null && !StripeIds.IsCustomerId(stripeCustomerId))
        {
            return ProblemResults.From(ApiProblem.Invalid("stripeCustomerId", "must be a Stripe customer id: 'cus_' and letters or digits."));
        }

        var created = await customers.CreateAsync(body.Value!.Name, body.Value.Email, cancellationToken);
        if (!created.Succeeded)
        {
            return ProblemResults.From(created.Problem!);
        }

        var customer = created.Value!;
        if (stripeCustomerId is not null)
        {
            // Linked, then brought in line with what Stripe's events already said about that customer (if anything).
            await billingTables.EnsureCreatedAsync(cancellationToken);
            await links.LinkAsync(customer.Id, stripeCustomerId, cancellationToken);
            await billing.ConvergeAsync(customer.Id, stripeCustomerId, cancellationToken);
        }

        var linked = stripeCustomerId is null ? "" : $", Stripe customer '{stripeCustomerId}'";
        await audit.RecordAsync(request.HttpContext, AuditActions.CustomerCreated, customer.Id, $"name '{customer.Name}', e-mail '{customer.Email}'{linked}", cancellationToken);
        return TypedResults.Created($"/admin/v1/customers/{customer.Id}", customer);
    }

    public static async Task<Results<Ok<CustomerPage>, ProblemHttpResult>> ListCustomers([AsParameters] CustomerQuery query, CustomerService customers, CancellationToken cancellationToken)
    {
        var page = await customers.ListAsync(query.Search, query.ContinuationToken, query.Limit, cancellationToken);
        return page.Succeeded ? TypedResults.Ok(page.Value!) : ProblemResults.From(page.Problem!);
    }

    public static async Task<Results<Ok<Customer>, ProblemHttpResult>> UpdateCustomer(string id, HttpRequest request, CustomerService customers, AuditLog audit, CancellationToken cancellationToken)
    {
        if (!CustomerIds.IsWellFormed(id))
        {
            return ProblemResults.From(ApiProblem.NotFound("Customer", id));
        }

        var body = await JsonBody.ReadAsync<UpdateCustomerRequest>(request, cancellationToken);
        if (!body.Succeeded)
        {
            return ProblemResults.From(body.Problem!);
        }

        var updated = await customers.UpdateAsync(id, body.Value!.Name, body.Value.Email, cancellationToken);
        if (!updated.Succeeded)
        {
            return ProblemResults.From(updated.Problem!);
        }

        var customer = updated.Value!;
        var changed = string.Join(", ", new[] { body.Value.Name is null ? null : $"name '{customer.Name}'", body.Value.Email is null ? null : $"e-mail '{customer.Email}'" }.OfType<string>());
        await audit.RecordAsync(request.HttpContext, AuditActions.CustomerUpdated, customer.Id, changed, cancellationToken);
        return TypedResults.Ok(customer);
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> DeleteCustomer(string id, HttpContext context, CustomerService customers, AuditLog audit, CancellationToken cancellationToken)
    {
        var deleted = await customers.DeleteAsync(id, cancellationToken);
        if (!deleted.Succeeded)
        {
            return ProblemResults.From(deleted.Problem!);
        }

        await audit.RecordAsync(context, AuditActions.CustomerDeleted, id, $"name '{deleted.Value!.Name}'", cancellationToken);
        return TypedResults.NoContent();
    }

    public static async Task<Results<Ok<Customer>, ProblemHttpResult>> GetCustomer(string id, ClaimsPrincipal user, CustomerService customers, CancellationToken cancellationToken)
    {
        var found = ControlPlaneCaller.Of(user).CanSee(id) ? await customers.FindAsync(id, cancellationToken) : ApiProblem.NotFound("Customer", id);
        return found.Succeeded ? TypedResults.Ok(found.Value!) : ProblemResults.From(found.Problem!);
    }
}
