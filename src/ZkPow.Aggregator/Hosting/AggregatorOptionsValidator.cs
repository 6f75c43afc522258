using Microsoft.Extensions.Options;

namespace ZkPow.Aggregator.Hosting;

/// <summary>Validates the options at host start with the sections' own <c>Validate()</c> methods; the failure is
/// the <see cref="OptionsException"/> message, which names the key.</summary>
internal sealed class AggregatorOptionsValidator : IValidateOptions<AggregatorOptions>
{
    public ValidateOptionsResult Validate(string? name, AggregatorOptions options)
    {
        try
        {
            options.Validate();
            return ValidateOptionsResult.Success;
        }
        catch (OptionsException ex)
        {
            return ValidateOptionsResult.Fail(ex.Message);
        }
    }
}
