using System.Globalization;

namespace Gateway.DemoUpstream;

public sealed record Post(long Id, long UserId, string Text, DateTimeOffset CreatedAt, int Likes);

public sealed record Page(IReadOnlyList<Post> Data, string? NextCursor);

/// <summary>Deterministic generated posts: the same ids and texts on every run, so demos and tests can rely on them.</summary>
public sealed class PostArchive
{
    private static readonly string[] Words =
        ["api", "data", "gateway", "metering", "quota", "river", "mountain", "coffee", "launch", "music", "football", "weather", "election", "science", "market"];

    public PostArchive(int postCount, int userCount)
    {
        var start = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        Posts = [.. Enumerable.Range(1, postCount).Select(i => new Post(
            i,
            (i * 7919 % userCount) + 1,
            $"{Words[i % Words.Length]} {Words[i * 31 % Words.Length]} {Words[i * 17 % Words.Length]} #{i}",
            start.AddMinutes(i * 13),
            i * 37 % 1000))];
        ByUser = Posts.ToLookup(p => p.UserId);
    }

    public IReadOnlyList<Post> Posts { get; }

    public ILookup<long, Post> ByUser { get; }
}

public static class SocialPostsApi
{
    private const int MaxPageSize = 100;

    public static void MapSocialPostsApi(this WebApplication app)
    {
        var posts = app.Services.GetRequiredService<PostArchive>().Posts;
        var byUser = app.Services.GetRequiredService<PostArchive>().ByUser;

        app.MapGet("/healthz", () => TypedResults.Ok(new { status = "ok" }));

        app.MapGet("/v1/posts/{id:long}", (long id) =>
            id >= 1 && id <= posts.Count ? Results.Ok(posts[(int)id - 1]) : NotFound($"No post has id {id}."));

        app.MapGet("/v1/search", (string? q, int? limit) =>
        {
            if (string.IsNullOrWhiteSpace(q))
            {
                return Results.Problem("Query parameter 'q' is required.", statusCode: 400, title: "Bad search", type: "urn:demo:problem:bad-search");
            }

            var size = Math.Clamp(limit ?? 20, 1, MaxPageSize);
            return Results.Ok(new Page([.. posts.Where(p => p.Text.Contains(q, StringComparison.OrdinalIgnoreCase)).Take(size)], null));
        });

        app.MapGet("/v1/users/{id:long}/posts", (long id, int? limit) =>
            byUser.Contains(id)
                ? Results.Ok(new Page([.. byUser[id].OrderByDescending(p => p.Id).Take(Math.Clamp(limit ?? 20, 1, MaxPageSize))], null))
                : NotFound($"No user has id {id}."));

        // The full archive, in id order, with an opaque cursor: the bulk-download route higher plans license.
        app.MapGet("/v1/archive", (string? cursor, int? limit) =>
        {
            var after = 0L;
            if (cursor is not null && !long.TryParse(cursor, NumberStyles.None, CultureInfo.InvariantCulture, out after))
            {
                return Results.Problem("The cursor is not one this API issued.", statusCode: 400, title: "Bad cursor", type: "urn:demo:problem:bad-cursor");
            }

            var size = Math.Clamp(limit ?? 50, 1, MaxPageSize);
            var page = posts.Skip((int)Math.Min(after, posts.Count)).Take(size).ToList();
            var next = page.Count == size && page[^1].Id < posts.Count ? page[^1].Id.ToString(CultureInfo.InvariantCulture) : null;
            return Results.Ok(new Page(page, next));
        });
    }

    private static IResult NotFound(string detail) =>
        Results.Problem(detail, statusCode: 404, title: "Not found", type: "urn:demo:problem:not-found");
}
