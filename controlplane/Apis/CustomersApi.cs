using Gateway.ControlPlane.Contracts;
using Gateway.ControlPlane.Http;
using Gateway.Core.Customers;
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
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge);
        api.MapGet("/customers", ListCustomers)
            .WithName(nameof(ListCustomers))
            .WithSummary("List customers");
        api.MapGet("/customers/{id}", GetCustomer)
            .WithName(nameof(GetCustomer))
            .WithSummary("Get a customer")
            .ProducesProblem(StatusCodes.Status404NotFound);
        return api;
    }

    public static async Task<Results<Created<Customer>, ProblemHttpResult>> CreateCustomer(HttpRequest request, CustomerService customers, CancellationToken cancellationToken)
    {
        var body = await JsonBody.ReadAsync<CreateCustomerRequest>(request, cancellationToken);
        if (!body.Succeeded)
        {
            return ProblemResults.From(body.Problem!);
        }

        var created = await customers.CreateAsync(body.Value!.Name, body.Value.Email, cancellationToken);
        return created.Succeeded
            ? TypedResults.Created($"/admin/v1/customers/{created.Value!.Id}", created.Value)
            : ProblemResults.From(created.Problem!);
    }

    public static async Task<Ok<IReadOnlyList<Customer>>> ListCustomers(CustomerService customers, CancellationToken cancellationToken) =>
        TypedResults.Ok(await customers.ListAsync(cancellationToken));

    public static async Task<Results<Ok<Customer>, ProblemHttpResult>> GetCustomer(string id, CustomerService customers, CancellationToken cancellationToken)
    {
        var found = await customers.FindAsync(id, cancellationToken);
        return found.Succeeded ? TypedResults.Ok(found.Value!) : ProblemResults.From(found.Problem!);
    }
}
