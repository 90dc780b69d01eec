namespace LearnerVault.Server.Pipeline;

/// <summary>Whole-body reads for resources that must see all of a body before acting on it.</summary>
public static class RequestBody
{
    /// <summary>Reads the whole body. Kestrel bounds its size (413 past the limit), so the buffer is bounded too.</summary>
    public static async Task<ReadOnlyMemory<byte>> ReadAllAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        using var buffer = request.ContentLength is > 0 and < int.MaxValue
            ? new MemoryStream((int)request.ContentLength.Value)
            : new MemoryStream();
        await request.Body.CopyToAsync(buffer, cancellationToken);
        return buffer.GetBuffer().AsMemory(0, (int)buffer.Length);
    }
}
