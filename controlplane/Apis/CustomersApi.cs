using System.Security.Claims;
using Gateway.ControlPlane.Audit;
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
            .WithSummary("List customers")
            .RequireAuthorization(ControlPlanePolicies.Review);
        api.MapGet("/customers/{id}", GetCustomer)
            .WithName(nameof(GetCustomer))
            .WithSummary("Get a customer (a developer: its own)")
            .RequireAuthorization(ControlPlanePolicies.AnyRole)
            .ProducesProblem(StatusCodes.Status404NotFound);
        return api;
    }

    public static async Task<Results<Created<Customer>, ProblemHttpResult>> CreateCustomer(HttpRequest request, CustomerService customers, AuditLog audit, CancellationToken cancellationToken)
    {
        var body = await JsonBody.ReadAsync<CreateCustomerRequest>(request, cancellationToken);
        if (!body.Succeeded)
        {
            return ProblemResults.From(body.Problem!);
        }

        var created = await customers.CreateAsync(body.Value!.Name, body.Value.Email, cancellationToken);
        if (!created.Succeeded)
        {
            return ProblemResults.From(created.Problem!);
        }

        var customer = created.Value!;
        await audit.RecordAsync(request.HttpContext, AuditActions.CustomerCreated, customer.Id, $"name '{customer.Name}', e-mail '{customer.Email}'", cancellationToken);
        return TypedResults.Created($"/admin/v1/customers/{customer.Id}", customer);
    }

    public static async Task<Ok<IReadOnlyList<Customer>>> ListCustomers(CustomerService customers, CancellationToken cancellationToken) =>
        TypedResults.Ok(await customers.ListAsync(cancellationToken));

    public static async Task<Results<Ok<Customer>, ProblemHttpResult>> GetCustomer(string id, ClaimsPrincipal user, CustomerService customers, CancellationToken cancellationToken)
    {
        var found = ControlPlaneCaller.Of(user).CanSee(id) ? await customers.FindAsync(id, cancellationToken) : ApiProblem.NotFound("Customer", id);
        return found.Succeeded ? TypedResults.Ok(found.Value!) : ProblemResults.From(found.Problem!);
    }
}
