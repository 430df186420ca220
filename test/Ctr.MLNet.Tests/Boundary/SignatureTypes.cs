using System.Collections.Immutable;
using System.Linq;
using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;

namespace Ctr.MLNet.Tests.Boundary;

/// <summary>
/// A decoded signature: its text with types by full name (so one assembly's member reference can be matched with
/// another assembly's definition), the type handles it mentions, and the outermost type (a generic instantiation's
/// type definition or reference).
/// </summary>
internal readonly record struct SignatureTypes(string Text, ImmutableArray<EntityHandle> Handles, EntityHandle Head)
{
    /// <summary>A method, field, local variables or method instantiation signature (told apart by its header).</summary>
    public static SignatureTypes Signature(MetadataReader md, BlobHandle blob)
    {
        var decoder = new SignatureDecoder<SignatureTypes, object?>(Provider.Instance, md, null);
        BlobReader reader = md.GetBlobReader(blob);
        SignatureHeader header = reader.ReadSignatureHeader();
        reader.Reset();
        switch (header.Kind)
        {
            case SignatureKind.Field:
                return decoder.DecodeFieldSignature(ref reader);
            case SignatureKind.LocalVariables:
                return Join("locals", decoder.DecodeLocalSignature(ref reader));
            case SignatureKind.MethodSpecification:
                return Join("instantiation", decoder.DecodeMethodSpecificationSignature(ref reader));
            case SignatureKind.Property:
                MethodSignature<SignatureTypes> property = decoder.DecodeMethodSignature(ref reader);
                return Join("property", [property.ReturnType, .. property.ParameterTypes]);
            default:
                MethodSignature<SignatureTypes> method = decoder.DecodeMethodSignature(ref reader);
                SignatureTypes parameters = Join("", method.ParameterTypes);
                string generic = method.GenericParameterCount > 0 ? $"<{method.GenericParameterCount}>" : "";
                return new($"{generic}{method.ReturnType.Text}{parameters.Text}", [.. method.ReturnType.Handles, .. parameters.Handles], default);
        }
    }

    public static int ParameterCount(MetadataReader md, BlobHandle methodSignature)
    {
        BlobReader reader = md.GetBlobReader(methodSignature);
        if (reader.ReadSignatureHeader().IsGeneric)
            reader.ReadCompressedInteger();
        return reader.ReadCompressedInteger();
    }

    public static SignatureTypes TypeSpecification(MetadataReader md, BlobHandle blob)
    {
        BlobReader reader = md.GetBlobReader(blob);
        return new SignatureDecoder<SignatureTypes, object?>(Provider.Instance, md, null).DecodeType(ref reader);
    }

    /// <summary>Full name of a type definition: <c>Namespace.Outer/Inner</c>.</summary>
    public static string Name(MetadataReader md, TypeDefinitionHandle handle)
    {
        TypeDefinition type = md.GetTypeDefinition(handle);
        string name = md.GetString(type.Name);
        if (!type.GetDeclaringType().IsNil)
            return Name(md, type.GetDeclaringType()) + "/" + name;
        return type.Namespace.IsNil ? name : md.GetString(type.Namespace) + "." + name;
    }

    public static string Name(MetadataReader md, TypeReferenceHandle handle)
    {
        TypeReference type = md.GetTypeReference(handle);
        string name = md.GetString(type.Name);
        if (type.ResolutionScope.Kind == HandleKind.TypeReference)
            return Name(md, (TypeReferenceHandle)type.ResolutionScope) + "/" + name;
        return type.Namespace.IsNil ? name : md.GetString(type.Namespace) + "." + name;
    }

    private static SignatureTypes Join(string label, ImmutableArray<SignatureTypes> parts) =>
        new($"{label}({string.Join(",", parts.Select(p => p.Text))})", [.. parts.SelectMany(p => p.Handles)], default);

    private sealed class Provider : ISignatureTypeProvider<SignatureTypes, object?>
    {
        public static readonly Provider Instance = new();

        public SignatureTypes GetPrimitiveType(PrimitiveTypeCode typeCode) => new(typeCode.ToString(), [], default);

        public SignatureTypes GetTypeFromDefinition(MetadataReader reader, TypeDefinitionHandle handle, byte rawTypeKind) => new(Name(reader, handle), [handle], handle);

        public SignatureTypes GetTypeFromReference(MetadataReader reader, TypeReferenceHandle handle, byte rawTypeKind) => new(Name(reader, handle), [handle], handle);

        public SignatureTypes GetTypeFromSpecification(MetadataReader reader, object? genericContext, TypeSpecificationHandle handle, byte rawTypeKind) =>
            TypeSpecification(reader, reader.GetTypeSpecification(handle).Signature);

        public SignatureTypes GetSZArrayType(SignatureTypes elementType) => elementType with { Text = elementType.Text + "[]", Head = default };

        public SignatureTypes GetArrayType(SignatureTypes elementType, ArrayShape shape) => elementType with { Text = $"{elementType.Text}[{shape.Rank}]", Head = default };

        public SignatureTypes GetByReferenceType(SignatureTypes elementType) => elementType with { Text = elementType.Text + "&", Head = default };

        public SignatureTypes GetPointerType(SignatureTypes elementType) => elementType with { Text = elementType.Text + "*", Head = default };

        public SignatureTypes GetPinnedType(SignatureTypes elementType) => elementType with { Text = elementType.Text + " pinned" };

        public SignatureTypes GetGenericInstantiation(SignatureTypes genericType, ImmutableArray<SignatureTypes> typeArguments) =>
            new($"{genericType.Text}<{string.Join(",", typeArguments.Select(a => a.Text))}>",
                [.. genericType.Handles, .. typeArguments.SelectMany(a => a.Handles)], genericType.Head);

        public SignatureTypes GetGenericTypeParameter(object? genericContext, int index) => new($"!{index}", [], default);

        public SignatureTypes GetGenericMethodParameter(object? genericContext, int index) => new($"!!{index}", [], default);

        public SignatureTypes GetFunctionPointerType(MethodSignature<SignatureTypes> signature) =>
            new($"fnptr {signature.ReturnType.Text}({string.Join(",", signature.ParameterTypes.Select(p => p.Text))})",
                [.. signature.ReturnType.Handles, .. signature.ParameterTypes.SelectMany(p => p.Handles)], default);

        public SignatureTypes GetModifiedType(SignatureTypes modifier, SignatureTypes unmodifiedType, bool isRequired) =>
            new($"{unmodifiedType.Text} {(isRequired ? "modreq" : "modopt")}({modifier.Text})", [.. unmodifiedType.Handles, .. modifier.Handles], unmodifiedType.Head);
    }
}
